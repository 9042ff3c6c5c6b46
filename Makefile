# painvision: one command to set up and run the demo, one to run the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.painvision-installed
SAMPLE := sample_videos/astronaut_pain.mp4
OUT    ?= out

.PHONY: setup demo test lint clean-venv

setup: $(STAMP)

# One pip step: the package with every extra and the developer tools ([dev]). The core alone
# (`pip install painvision`, no PyTorch) is checked by scripts/slim_install.py in CI.
# Then painvision is byte-compiled, as installing a wheel does: where PYTHONDONTWRITEBYTECODE
# is set (containers often set it) the editable install would otherwise compile its modules
# afresh in every run, about 40 ms of each `painvision analyze` (a module edited since is
# compiled afresh again until `python -m compileall painvision` is run once more).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip check
	$(BIN)/python -m compileall -q painvision
	$(BIN)/python -c "import cv2, mediapipe, torch, painvision; print('painvision', painvision.__version__, '| cv2', cv2.__version__, '| mediapipe', mediapipe.__version__, '| torch', torch.__version__)"
	touch $(STAMP)

demo: setup
	$(BIN)/painvision analyze $(SAMPLE) --out $(OUT) --overwrite

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check painvision tests scripts
	$(BIN)/lint-imports

clean-venv:
	rm -rf $(VENV)
