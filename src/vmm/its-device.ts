/**
 * The KVM ITS device (vgic-its.c; KVM B.8) in front of Xen's virtual ITS: create, the frame
 * address (GRP_ADDR), and the control group (INIT, RESET, SAVE_TABLES, RESTORE_TABLES) acting on
 * the Xen vITS once it is built (src/vmm/vgic-init.ts buildXenIts).
 */
import { GITS_VALID_BIT } from '../xen/vgic-v3-its.js';
import { vgicCheckIorange } from './rdist.js';
import { anyVcpuRunning, buildXenIts } from './vgic-init.js';
import { KVM_VGIC_V3_ITS_SIZE, SZ_64K, type Errno, type KvmDevice, type KvmVm } from './types.js';

/**
 * vgic_its_create (KVM B.8): the VM gains an ITS with no frame yet. Xen gives a domain one vITS,
 * so a second ITS device of the same VM is refused with ENOMEM, the one errno this call has
 * besides ENODEV (docs/trace-format.md §10.7).
 */
export function vgicItsCreate(vm: KvmVm): Errno | 0 {
  if (vm.itsDevices.length > 0) return 'ENOMEM';
  vm.hasIts = true;
  return 0;
}

/** vgic_its_set_attr / get_attr, GRP_ADDR KVM_VGIC_ITS_ADDR_TYPE (KVM B.8): vgic_check_iorange(64 KiB, 128 KiB). */
export function vgicItsSetAddr(vm: KvmVm, dev: KvmDevice, addr: bigint): Errno | 0 {
  const its = dev.its!;
  const r = vgicCheckIorange(vm, its.base, addr, SZ_64K, KVM_VGIC_V3_ITS_SIZE);
  if (r !== 0) return r;
  its.base = addr;
  buildXenIts(vm, dev);
  return 0;
}

/**
 * vgic_its_ctrl (KVM B.8): RESET, SAVE_TABLES and RESTORE_TABLES need every vCPU lockable
 * (EBUSY). RESET clears the Valid bit of both BASERs (other fields kept), CBASER, CREADR and
 * CWRITER, and disables the ITS. SAVE_TABLES and RESTORE_TABLES succeed without moving anything:
 * Xen keeps its translation tables in guest RAM and reads them on every lookup, so there is
 * nothing held elsewhere to save or reload (docs/trace-format.md §10.7). Any other attribute
 * succeeds too, as KVM's switch has no default (a quirk HAS_ATTR does not share).
 */
export function vgicItsCtrl(vm: KvmVm, dev: KvmDevice, attr: bigint): Errno | 0 {
  if (attr === 0n) return 0; // CTRL_INIT: nothing to do
  if (anyVcpuRunning(vm)) return 'EBUSY';
  if (attr === 4n) vgicItsReset(dev);
  return 0;
}

/** vgic_its_reset (KVM B.8), on the Xen vITS when there is one. */
export function vgicItsReset(dev: KvmDevice): void {
  const its = dev.its!.xen;
  if (its === null) return;
  its.baserDev &= ~GITS_VALID_BIT;
  its.baserColl &= ~GITS_VALID_BIT;
  its.maxDevices = 0;
  its.maxCollections = 0;
  its.cbaser = 0n;
  its.creadr = 0;
  its.cwriter = 0;
  its.enabled = false;
}
