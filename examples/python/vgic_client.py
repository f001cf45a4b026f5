"""A small client of the vgic-model driver protocol (docs/trace-format.md section 7).

Standard library only. It starts a command (`vgic serve`, `vgic serve --mutant NAME`, or any
other implementation that speaks the protocol), sends one JSON request per line and reads one
response line per request.

    with VgicClient("vgic serve") as oracle:
        oracle.reset({"gic": "v3", "nr_lrs": 2, "pcpus": 1,
                      "domains": [{"id": 1, "vcpus": 1, "nr_spis": 32}]})
        answer = oracle.step({"op": "run", "pcpu": 0, "domain": 1, "vcpu": 0})
        # answer == {"ok": True, "result": {"outcome": "ok"}}
"""

import json
import shlex
import subprocess
import tempfile


class ProtocolError(Exception):
    """The other side broke the protocol: it exited, wrote a line that is not a response to
    our request, or answered with another id."""


class VgicClient:
    """One driver process. Every method sends one request and returns the parsed response
    (a dict with at least "ok"); step() and snapshot() return the response as it came, so a
    caller sees both ok:true and ok:false answers."""

    def __init__(self, command):
        # A command is a shell-like string ("node dist/cli/main.js serve --mutant x") or a list.
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        self.command = command
        # Standard error goes to a file, so a chatty process can never block on a full pipe.
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self._next_id = 1

    # -- the protocol ------------------------------------------------------------------

    def request(self, cmd, **fields):
        return json.loads(self.request_text(cmd, **fields))

    def request_text(self, cmd, **fields):
        """Like request(), but returns the response line as it came (checked to be a JSON
        object with our id and an ok), without the id; two canonical answers (as `vgic
        serve` writes them) can then be compared as strings."""
        rid = self._next_id
        self._next_id += 1
        line = json.dumps(dict(id=rid, cmd=cmd, **fields), separators=(",", ":"))
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise ProtocolError(self._died("while we wrote %s" % cmd))
        answer = self.proc.stdout.readline()
        if answer == "":
            raise ProtocolError(self._died("instead of answering %s" % cmd))
        prefix = '{"id":%d,' % rid
        if answer.startswith(prefix + '"ok":true') or answer.startswith(prefix + '"ok":false'):
            return answer  # the usual compact form: no need to parse it here
        try:
            response = json.loads(answer)
        except ValueError:
            raise ProtocolError("%s answered %s with a line that is not JSON: %r" % (self.command, cmd, answer[:200]))
        if not isinstance(response, dict) or response.get("id") != rid or not isinstance(response.get("ok"), bool):
            raise ProtocolError("%s answered %s (id %d) with %r" % (self.command, cmd, rid, answer[:200]))
        return answer

    def hello(self):
        return self.request("hello")

    def reset(self, config):
        return self.request("reset", config=config)

    def step(self, step):
        return self.request("step", step=step)

    def snapshot(self):
        return self.request("snapshot")

    def snapshot_text(self):
        """The snapshot answer as text with the id removed (see request_text)."""
        return self.request_text("snapshot").split(",", 1)[1]

    def quit(self):
        """Say goodbye and wait for the process; returns its exit status."""
        if self.proc.poll() is None:
            try:
                self.request("quit")
            except ProtocolError:
                pass
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    # -- helpers -----------------------------------------------------------------------

    def _died(self, when):
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._stderr.seek(0)
        err = self._stderr.read()
        return "%s exited with status %s %s; stderr: %s" % (self.command, self.proc.returncode, when, err.strip()[:500])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.quit()
        self.proc.stdout.close()
        self._stderr.close()
        return False
