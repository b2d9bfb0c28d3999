#!/usr/bin/env bash
# System packages the tests and `grader batch` use, installed when missing and this user may
# (root with apt-get); otherwise everything still runs and says what is missing.
# - bubblewrap isolates each submission of `grader batch` (no network, read-only file system
#   outside its own folders); without it batches run and their summary says so.
# - chromium and chromium-driver (Debian's) render the feedback pages and drive the review
#   workspace in the browser tests (Selenium); without them those tests are skipped.
# - nodejs and npm (Debian's), then axe-core from npm (tests/a11y, pinned by its package-lock.json):
#   the accessibility tests check every page in Chromium against WCAG 2.1 A and AA; without it
#   they are skipped.
apt_install() {  # PACKAGE...: apt-get install, with one apt-get update first if that fails
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    apt-get install -y -q "$@" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$@" >/dev/null 2>&1; }
}
if ! command -v bwrap >/dev/null 2>&1; then
    apt_install bubblewrap
    if command -v bwrap >/dev/null 2>&1; then
        echo "installed bubblewrap: $(bwrap --version)"
    else
        echo "bubblewrap is not installed (try: sudo apt-get install bubblewrap); grader batch runs without isolation" >&2
    fi
fi
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    apt_install chromium chromium-driver
    if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
        echo "installed chromium and chromium-driver"
    else
        echo "chromium/chromium-driver are not installed (try: sudo apt-get install chromium chromium-driver); browser tests are skipped" >&2
    fi
fi
if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
fi
axe="$(dirname "$0")/../tests/a11y"
if [ ! -f "$axe/node_modules/axe-core/axe.min.js" ]; then
    if command -v npm >/dev/null 2>&1 && (cd "$axe" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
        echo "installed axe-core $(cd "$axe" && node -p 'require("axe-core/package.json").version')"
    else
        echo "axe-core is not installed (try: sudo apt-get install nodejs npm; cd tests/a11y && npm ci); accessibility tests are skipped" >&2
    fi
fi
exit 0
