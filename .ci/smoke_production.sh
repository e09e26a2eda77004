#!/usr/bin/env bash
# The README's production section ("### Serving a lab") as a new user runs it, in the brand-new virtual
# environment of .ci/smoke_first_command.sh (whose first command has built demo_data): its install line
# verbatim, then redis-server, the gunicorn app and a Celery worker from its lines with other ports; the app
# must serve / and /modules/M000 and the worker must come up. Usage: .ci/smoke_production.sh VENV
set -euo pipefail
cd "$(dirname "$0")/.."
source "${1:?the virtual environment}/bin/activate"
redis_port=${SMOKE_REDIS_PORT:-6391}
port=${SMOKE_PRODUCTION_PORT:-8058}
mapfile -t lines < <(python - <<'PY'
import re
text = open("README.md").read().split("### Serving a lab", 1)[1]
print(re.findall(r"```bash\n(.+?)\n```", text, re.DOTALL)[0])
PY
)
[ "${#lines[@]}" -eq 4 ] || { echo "smoke: the production section's block should have 4 lines"; exit 1; }
log=$(mktemp -d)
echo "smoke: production section: ${lines[0]}"
bash -c "${lines[0]}" > "$log/install.log" 2>&1 || { tail -20 "$log/install.log"; exit 1; }
bash -c "${lines[1]//6379/$redis_port}"
app="${lines[2]//6379/$redis_port}"
app="${app% &} --port $port"
celery_line="${lines[3]//6379/$redis_port}"
bash -c "$app" > "$log/app.log" 2>&1 &
app_pid=$!
bash -c "$celery_line" > "$log/celery.log" 2>&1 &
celery_pid=$!
trap 'kill $app_pid $celery_pid 2>/dev/null || true; pkill -f "app.py --data-root demo_data --workers" || true;
      pkill -f "celery --app celery_worker" || true; redis-cli -p $redis_port shutdown nosave >/dev/null 2>&1 || true;
      rm -rf "$log"' EXIT
url="redis://127.0.0.1:$redis_port/0"
worker_up() {  # a Celery worker answers a ping through Redis
    python -c "import sys; from celery import Celery; sys.exit(0 if Celery(broker='$url', backend='$url').control.ping(timeout=2) else 1)" 2>/dev/null
}
for _ in $(seq 1 120); do
    if python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/', timeout=5)" 2>/dev/null \
        && worker_up; then break; fi
    sleep 1
done
worker_up || { echo "smoke: no Celery worker answers:"; tail -30 "$log/celery.log"; exit 1; }
echo "smoke: a Celery worker answers through $url"
grep "production mode" "$log/app.log" || { echo "smoke: no production server:"; tail -30 "$log/app.log"; exit 1; }
python .ci/smoke_client.py "http://127.0.0.1:$port" / /modules/M000
