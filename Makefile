# Two commands set up a fresh machine (see README.md):
#   make demo   create .venv if missing, install, train + test the small demo model
#   make test   create .venv if missing, install, run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch first, from this spec (override for another CUDA / CPU build); then the rest
# without build isolation, so basicsr's sdist builds against this torch instead of
# downloading a second one (see README "Installing").
TORCH  ?= torch==2.14.1 torchvision==0.29.1
STAMP  := $(VENV)/.installed

.PHONY: install test demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.py | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check $(TORCH)
	$(BIN)/pip install --disable-pip-version-check --no-build-isolation -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

demo: $(STAMP)
	$(BIN)/python -m perceive_ir_arch.train -opt options/demo/train_demo.yml
	$(BIN)/python -m perceive_ir_arch.test -opt options/demo/test_demo.yml

clean:
	rm -rf $(VENV) build *.egg-info experiments results
