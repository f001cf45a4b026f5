#!/usr/bin/env node
/** Entry point of the `vgic` command (the commands live in run.ts, importable by tests). */
import { main } from './run.js';

process.exitCode = await main(process.argv.slice(2));
