#!/usr/bin/env bash
# The README's first set-up command as a new user runs it: in a brand-new virtual environment with nothing
# but requirements.txt (and the project, --no-deps), `python app.py --port P` must build the demo and serve
# / and /modules/M000 (the module page's content, asked for as the browser asks). A runtime dependency
# missing from requirements.txt makes the app fail to start or a page fail, and this script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${SMOKE_PORT:-8057}
venv=$(mktemp -d)/venv
log=$(mktemp)
first_command=$(python - <<'PY'
import re
text = open("README.md").read().split("## Set-up", 1)[1].split("\n## ", 1)[0]
print(re.findall(r"```bash\n(.+?)\n```", text)[0])
PY
)
python -m venv "$venv"
source "$venv/bin/activate"
echo "smoke: in a new venv: $first_command --port $port"
bash -c "$first_command --port $port" > "$log" 2>&1 &
app=$!
# the venv (about 2 GB) and the log go when the script ends, however it ends
trap 'kill $app 2>/dev/null || true; wait $app 2>/dev/null || true; deactivate || true; rm -rf "$(dirname "$venv")" "$log"' EXIT
for _ in $(seq 1 900); do  # installs + the demo build: allow 15 minutes
    if grep -q "Running on http://127.0.0.1:$port" "$log"; then break; fi
    if ! kill -0 $app 2>/dev/null; then echo "smoke: the first command stopped:"; tail -30 "$log"; exit 1; fi
    sleep 1
done
grep -q "Running on http://127.0.0.1:$port" "$log" || { echo "smoke: no server after 15 minutes"; tail -30 "$log"; exit 1; }
grep "Running on" "$log"
python .ci/smoke_client.py "http://127.0.0.1:$port" / /modules/M000
# then the README's production section in the same environment (gunicorn, Celery, Redis)
bash .ci/smoke_production.sh "$venv"
