# Sourced by scripts/dev and scripts/test: make .venv with Python 3.11+ and
# install signoff into it (again only when pyproject.toml or the extras change).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

extras="${1:-}"
python=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python="$candidate"
    break
  fi
done
if [ -z "$python" ]; then
  echo "signoff needs Python 3.11 or newer on PATH (python3.11 or python3)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $("$python" --version)" >&2
  "$python" -m venv .venv
fi

stamp=".venv/.signoff-installed"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1) ${extras}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing signoff${extras:+ with [$extras]} into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' >&2 || true
  .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}" 2>&1 | grep -v '^WARNING: Location' >&2 || true
  .venv/bin/python -c 'import workers.cli' # fails loudly if the install did not happen
  echo "$want" > "$stamp"
fi

# The tests' OpenID provider is npm's oidc-provider: with the test extras, install it, again when its lock moves.
if [[ ",$extras," == *,test,* ]] && command -v npm >/dev/null 2>&1 &&
   [ tests/idp/package-lock.json -nt tests/idp/node_modules/.package-lock.json ]; then
  echo "installing the tests' OpenID provider into tests/idp/node_modules" >&2
  npm ci --prefix tests/idp --no-audit --no-fund --silent
fi
