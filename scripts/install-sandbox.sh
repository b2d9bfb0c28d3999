#!/usr/bin/env bash
# bubblewrap isolates each submission of `grader batch` (no network, read-only file system
# outside its own folders). It is a system package: installed here when missing and this
# user may (root with apt-get); otherwise batches still run and their summary says so.
if command -v bwrap >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -q bubblewrap >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/dev/null 2>&1; }
fi
if command -v bwrap >/dev/null 2>&1; then
    echo "installed bubblewrap: $(bwrap --version)"
else
    echo "bubblewrap is not installed (try: sudo apt-get install bubblewrap); grader batch runs without isolation" >&2
fi
exit 0
