#!/bin/sh
# Test double of a P2V converter (tests/ansible.rs): called as
# <server> <target host> <method> <platform>; records the conversion and the
# VM it "made" in $VIRTPLAN_FAKE_STATE. The VM of the server named in
# $VIRTPLAN_FAKE_NO_BOOT stays powered off.
set -eu
echo "$1 $2 $3 $4" >> "$VIRTPLAN_FAKE_STATE/converted.log"
power=poweredOn
if [ "${VIRTPLAN_FAKE_NO_BOOT:-}" = "$1" ]; then power=poweredOff; fi
printf '{"power": "%s", "host": "%s"}\n' "$power" "$2" > "$VIRTPLAN_FAKE_STATE/$1.json"
