# painvision: one command to set up and run the demo, one to run the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.painvision-installed
SAMPLE := sample_videos/astronaut_pain.mp4
OUT    ?= out

.PHONY: setup demo test lint clean-venv

setup: $(STAMP)

# Two pip steps so that exactly one OpenCV distribution ends up installed:
# 1) the package with its pinned dependencies (opencv-python-headless among them);
# 2) mediapipe without its dependencies (it would pull opencv-contrib-python).
$(STAMP): pyproject.toml scripts/install_nodeps.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python scripts/install_nodeps.py
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
