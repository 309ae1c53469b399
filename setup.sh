#!/usr/bin/env bash
# Gradescope runs this once, as root, on its default image (Ubuntu 22.04, Python 3.10),
# when it builds the assignment's image. Versions are pinned to those CI tested on
# Python 3.10 (.ci/run): every submission of a term is graded by the same code.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-pip >/dev/null
# Gradescope's own harness uses the system python3: add packages, never replace it.
python3 -m pip install --no-cache-dir --quiet \
    "numpy==2.2.6" "pytest==9.2.0" "hypothesis==6.168.5" "pyyaml==6.0.4" \
    "gradescope-utils==0.5.0" "tqdm==4.70.1" "psutil==7.2.2" \
    "nbformat==5.11.1"
# Bytecode compiled once into the image: every submission's grading starts in a fresh container,
# which would otherwise compile the engine again each time (tens of ms at 0.5 vCPU).
python3 -m compileall -q "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/autograder" >/dev/null || true
# The unprivileged user that student code runs as (autograder/sandbox/).
id -u student >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin student
