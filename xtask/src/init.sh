# Body of the initramfs /init (busybox sh). initramfs.rs puts the settings
# above it: DISK, DISK_SHA256, KEPT_SHA256, DISK_WAIT_SECS, WRITE_OFFSET_MIB, WRITE_MIB and
# the functions load_modules, after_verify, report.
#
# The verdict is the one line `PNV-RESULT: PASS` or `PNV-RESULT: FAIL <why>`
# on the console; then the machine powers off (QEMU -no-reboot ends).

export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "initramfs: $*"; }

# Prints the report, the verdict line, and powers off.
finish() {
    report
    echo "PNV-RESULT: $*"
    sync
    poweroff -f
    sleep 60
}

fail() { finish "FAIL $*"; }

# Waits up to DISK_WAIT_SECS for $DISK to appear.
wait_disk() {
    i=0
    while [ ! -b "$DISK" ]; do
        i=$((i + 1))
        [ "$i" -gt "$((DISK_WAIT_SECS * 10))" ] && return 1
        sleep 0.1
    done
}

# Reads the whole disk with O_DIRECT (device-to-memory DMA) and compares its
# sha256 with the host's.
verify_disk() {
    got=$(dd if="$DISK" bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
    [ "$got" = "$DISK_SHA256" ] || return 1
    say "disk sha256 matches ($got)"
}

# Writes a fresh random pattern to the write region with O_DIRECT
# (memory-to-device DMA), reads it back with O_DIRECT and compares.
write_read_back() {
    dd if=/dev/urandom of=/pattern bs=1M count="$WRITE_MIB" 2>/dev/null
    want=$(sha256sum /pattern | cut -d' ' -f1)
    dd if=/pattern of="$DISK" bs=1M seek="$WRITE_OFFSET_MIB" oflag=direct conv=notrunc \
        2>/dev/null || return 1
    got=$(dd if="$DISK" bs=1M skip="$WRITE_OFFSET_MIB" count="$WRITE_MIB" iflag=direct \
        2>/dev/null | sha256sum | cut -d' ' -f1)
    [ "$got" = "$want" ] || return 1
    say "pattern sha256 $want written at MiB $WRITE_OFFSET_MIB and read back"
}

# After write_read_back: reads the disk again with O_DIRECT; the part
# before the write region must still match the host's sha256 and the write
# region must hold the last pattern.
verify_again() {
    got=$(dd if="$DISK" bs=1M count="$WRITE_OFFSET_MIB" iflag=direct 2>/dev/null |
        sha256sum | cut -d' ' -f1)
    [ "$got" = "$KEPT_SHA256" ] || return 1
    got=$(dd if="$DISK" bs=1M skip="$WRITE_OFFSET_MIB" count="$WRITE_MIB" iflag=direct \
        2>/dev/null | sha256sum | cut -d' ' -f1)
    [ "$got" = "$want" ] || return 1
    say "disk verified again (kept part and last pattern)"
}

# The PCI address (domain:bus:dev.fn) of the device behind $DISK.
disk_pci_address() {
    basename "$(readlink -f "/sys/block/${DISK#/dev/}/device/device" 2>/dev/null ||
        readlink -f "/sys/block/${DISK#/dev/}/device/..")"
}

# Removes the disk's PCI device, rescans the bus and waits for the disk again.
remove_and_rescan() {
    addr=$(disk_pci_address)
    [ -e "/sys/bus/pci/devices/$addr/remove" ] || return 1
    say "removing PCI device $addr"
    echo 1 > "/sys/bus/pci/devices/$addr/remove"
    while [ -b "$DISK" ]; do sleep 0.1; done
    say "rescanning PCI"
    echo 1 > /sys/bus/pci/rescan
    wait_disk
}

say "kernel $(uname -r), loading modules"
load_modules || fail "loading modules"
if [ -z "$DISK" ]; then
    # Console only (InitConfig::console_only): no disk to check.
    say "console only, no disk"
    after_verify || fail "after_verify step failed"
    finish PASS
fi
wait_disk || fail "$DISK did not appear within $DISK_WAIT_SECS s"
verify_disk || fail "disk sha256 mismatch (got $got, want $DISK_SHA256)"
write_read_back || fail "written pattern did not read back"
after_verify || fail "after_verify step failed"
finish PASS
