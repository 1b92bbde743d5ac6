#!/usr/bin/env bash
# Build the double-click bundle and prove it works: the frozen app's --self-test, offline.
#
#   tests/packaging/build_and_selftest.sh               build, then self-test
#   tests/packaging/build_and_selftest.sh --skip-build  self-test the existing dist/genai-lab
#
# Run inside the project's environment (pyinstaller on PATH). The self-test runs with
# QT_QPA_PLATFORM=offscreen and, when root and `unshare -n` work, in a new network namespace
# (only a downed loopback), which proves the bundle needs no network. Its home (report, log,
# temporary runs) is build/self-test-home, so nothing lands in the user's folders.
# The console executable genai-lab-cli must answer --version and info. Prints build time,
# bundle size and the self-test's stages; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

BUNDLE=dist/genai-lab
HOME_DIR=build/self-test-home
REPORT=$HOME_DIR/self-test-report.json
TIMEOUT=${SELF_TEST_TIMEOUT:-300}

if [ "${1:-}" != "--skip-build" ]; then
    start=$(date +%s)
    pyinstaller --noconfirm --log-level WARN build_spec.spec
    echo "bundle: built in $(( $(date +%s) - start )) s"
fi
[ -x "$BUNDLE/genai-lab" ] || { echo "no $BUNDLE/genai-lab: build first" >&2; exit 1; }
echo "bundle: $(du -sh "$BUNDLE" | cut -f1) in $BUNDLE ($(find "$BUNDLE" -type f | wc -l) files)"

# The console executable (what a Windows terminal runs) answers headless commands.
[ -x "$BUNDLE/genai-lab-cli" ] || { echo "no $BUNDLE/genai-lab-cli in the bundle" >&2; exit 1; }
version=$(GENAI_LAB_HOME="$PWD/build/cli-check-home" "$BUNDLE/genai-lab-cli" --version)
[ "$version" = "$(python3 -m genai_engine --version)" ] \
    || { echo "genai-lab-cli --version printed '$version'" >&2; exit 1; }
GENAI_LAB_HOME="$PWD/build/cli-check-home" "$BUNDLE/genai-lab-cli" info --json \
    | python3 -c 'import json, sys; assert "fashion-mnist" in json.load(sys.stdin)["datasets"]' \
    || { echo "genai-lab-cli info --json did not list the embedded dataset" >&2; exit 1; }
echo "console executable: $version; info lists the embedded dataset"

rm -rf "$HOME_DIR"
mkdir -p "$HOME_DIR"
export QT_QPA_PLATFORM=offscreen GENAI_LAB_HOME="$PWD/$HOME_DIR"
cmd=("$BUNDLE/genai-lab" --self-test --self-test-report "$PWD/$REPORT" --self-test-timeout "$TIMEOUT")
offline=0
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
    offline=1
    echo "self-test: networking cut off (unshare -n)"
    cmd=(unshare -n -- "${cmd[@]}")
else
    echo "self-test: networking NOT cut off (needs root and unshare)"
fi
start=$(date +%s)
status=0
# The outer timeout is a backstop: the self-test's own watchdog fires first.
timeout $(( TIMEOUT + 60 )) "${cmd[@]}" || status=$?
echo "self-test: exit $status after $(( $(date +%s) - start )) s; report $REPORT"

python3 - "$REPORT" "$status" "$offline" <<'PY'
import json, sys

path, status, offline = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
try:
    report = json.load(open(path))
except (OSError, ValueError) as error:
    sys.exit(f"self-test: no readable report ({error}); exit status {status}")
for stage in report["stages"]:
    mark = "ok  " if stage["ok"] else "FAIL"
    extra = stage.get("error") or json.dumps(stage.get("details", {}))[:160]
    print(f"  {mark} {stage['name']:<10} {stage['seconds']:7.1f} s  {extra}")
print(f"  frozen={report['frozen']} interfaces={report['network_interfaces']} "
      f"total={report['seconds']} s")
if status != 0 or not report["ok"]:
    sys.exit(f"self-test FAILED: {report.get('reason')}")
if not report["frozen"]:
    sys.exit("self-test ran from source, not from the bundle")
if offline and set(report["network_interfaces"]) - {"lo"}:
    sys.exit(f"expected no network interfaces but lo, saw {report['network_interfaces']}")
print("self-test PASSED" + (" offline" if offline else ""))
PY
