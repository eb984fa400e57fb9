#!/usr/bin/env bash
# Full and read-only disks for every writer of `revive`: the statistics and
# basis caches, an edit run's metrics and checkpoints, and `revive export`. On a
# small tmpfs filled to ENOSPC, or remounted read-only, each must fail with an
# error naming the path, leave nothing half-written in sight, and keep what was
# there: a run resumed once space is back ends byte-identical to an
# uninterrupted one. Runs in a private mount namespace (root and unshare; exit
# 77, skip, otherwise).
#   disk_full_test.sh <revive>
set -euo pipefail
revive=$1
if [ -z "${REVIVE_IN_MOUNT_NS:-}" ]; then
  if [ "$(id -u)" != 0 ] || ! unshare -m --propagation private true 2> /dev/null; then
    echo "skip: needs root and unshare for a private tmpfs"
    exit 77
  fi
  REVIVE_IN_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
work=$(mktemp -d)
trap 'umount "$work/disk" 2> /dev/null; rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }
disk=$work/disk
mkdir -p "$disk"
new_disk() {  # new_disk SIZE: an empty tmpfs at $disk
  umount "$disk" 2> /dev/null || true
  mount -t tmpfs -o "size=$1" none "$disk"
}
fill_disk() { dd if=/dev/zero of="$disk/filler" bs=4k 2> /dev/null || true; sync; }
expect_failure() {  # expect_failure WHAT PATH_IN_ERROR COMMAND...: fails, naming the path
  local what=$1 path=$2
  shift 2
  if "$@" > "$work/out.log" 2> "$work/err.log"; then fail "$what succeeded on a full or read-only disk"; fi
  grep -q -- "$path" "$work/err.log" || fail "$what: the error does not name $path: $(cat "$work/err.log")"
}
nothing_partial() {  # nothing_partial DIR: no temporary or half-written file left in sight
  local left
  left=$(find "$1" -name '*.tmp*' -o -name '.*partial*' -o -name '*.part' 2> /dev/null | head -3)
  [ -z "$left" ] || fail "half-written files left: $left"
}

"$revive" toy-model --out "$work/toy" --subjects 20 --relations 2 --layers 2 --log-every 0 > /dev/null 2>&1
model=$work/toy/model
corpus=$work/toy/world/train.txt
stats=(--stats-corpus "$corpus" --stats-split lines)
edit=(edit --model "$model" --preset toy --layers 0-1 --requests "$work/toy/world/requests.json" --batch-size 10 --v-steps 10
      "${stats[@]}" --eval-edited 10 --eval-retained 10 --eval-text "$corpus" --eval-text-docs 10
      --metrics-every 10 --checkpoint-every 10 --cache-dir "$work/cache")
"$revive" "${edit[@]}" --num-edits 20 --out "$work/straight" > /dev/null 2> "$work/err.log" || fail "the uninterrupted run: $(tail -3 "$work/err.log")"

# Statistics cache on a full disk, then on a read-only one.
new_disk 1m
fill_disk
expect_failure "revive stats (full)" "$disk/cache" "$revive" stats --model "$model" --preset toy --layers 0-1 "${stats[@]}" --cache-dir "$disk/cache"
[ -z "$(find "$disk/cache" -name 'stats-*' 2> /dev/null)" ] || fail "a statistics file was left on the full disk"
nothing_partial "$disk"
new_disk 1m
mount -o remount,ro "$disk"
expect_failure "revive stats (read-only)" "$disk/cache" "$revive" stats --model "$model" --preset toy --layers 0-1 "${stats[@]}" --cache-dir "$disk/cache"

# Basis cache: the statistics are there, no room for the basis.
new_disk 4m
cp -r "$work/cache" "$disk/cache"
rm -f "$disk"/cache/basis-*
fill_disk
expect_failure "revive basis (full)" "$disk/cache" "$revive" basis --model "$model" --preset toy --layers 0-1 --tau 0.5 --cache-dir "$disk/cache"
[ -z "$(find "$disk/cache" -name 'basis-*')" ] || fail "a basis file was left on the full disk"
nothing_partial "$disk"

# An edit run on a disk with room for one checkpoint (~135 KiB here) and not two:
# the checkpoint at 20 edits, written beside the one at 10, cannot be.
new_disk 200k
expect_failure "revive edit (full)" "$disk/run" "$revive" "${edit[@]}" --num-edits 20 --out "$disk/run"
[ "$(cat "$disk/run/checkpoints/latest")" = edits-10 ] || fail "the latest checkpoint is not edits-10: $(cat "$disk/run/checkpoints/latest")"
[ ! -e "$disk/run/checkpoints/edits-20" ] || fail "the checkpoint that could not be written left its folder"
nothing_partial "$disk/run"
# Read-only: the resume is refused alike.
mount -o remount,ro "$disk"
expect_failure "revive edit --resume (read-only)" "$disk/run" "$revive" "${edit[@]}" --num-edits 20 --out "$disk/run" --resume
# Room again: the run resumes from its checkpoint and ends as the uninterrupted one.
mount -o remount,rw,size=8m "$disk"
"$revive" "${edit[@]}" --num-edits 20 --out "$disk/run" --resume > /dev/null 2> "$work/err.log" \
  || fail "resume once space is back: $(cat "$work/err.log")"
bash "$(dirname "$0")/../../launch/compare_runs.sh" "$work/straight" "$disk/run" > "$work/compared" \
  || fail "the resumed run differs from the uninterrupted one: $(cat "$work/compared")"

# Export to a full disk: an error, and no folder in sight.
fill_disk
expect_failure "revive export (full)" "$disk/exp" "$revive" export --run "$work/straight" --model "$model" --out "$disk/exp"
[ ! -e "$disk/exp" ] || fail "a partial export folder is in sight"
nothing_partial "$disk"
echo "disk full and read-only: ok"
