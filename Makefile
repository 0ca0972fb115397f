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

# stage 1 (medium-tier restorers on each fold, render, prompts), then stage 2 and the test
# table. Every pretrained part (DINOv2, CLIP, VGG16) is a random stand-in here.
demo: $(STAMP)
	@echo "== demo stage 1a: medium-tier restorers, one per fold"
	$(BIN)/python -m perceive_ir_arch.train -opt options/demo/train_medium_demo.yml
	$(BIN)/python -m perceive_ir_arch.train -opt options/demo/train_medium_demo.yml \
	    --force_yml datasets:train:fold=1 name=demo_medium_fold1
	@echo "== demo stage 1b: render the medium tier (fold f restored by the fold 1-f restorer)"
	$(BIN)/python -m perceive_ir_arch.render_medium -opt options/demo/render_demo.yml
	@echo "== demo stage 1c: quality prompts, trained on the spot on the demo triplets (tiny RANDOM CLIP)"
	$(BIN)/python -m perceive_ir_arch.train -opt options/demo/train_quality_perceiver_demo.yml
	@echo "== demo stage 2: PerceiveIR with L1 + 0.1 L_cl + 0.05 L_clip + 0.00001 L_dpl (RANDOM DINOv2, CLIP, VGG16)"
	$(BIN)/python -m perceive_ir_arch.train -opt options/demo/train_demo.yml
	$(BIN)/python -m perceive_ir_arch.test -opt options/demo/test_demo.yml
	@echo "== the perceive-ir command: pack the demo model, restore the held-out degraded photos"
	$(BIN)/perceive-ir pack --checkpoint experiments/demo_perceive_ir/models/net_g_latest.pth \
	    --opt options/demo/train_demo.yml -o experiments/demo_perceive_ir/restorer.pth
	$(BIN)/perceive-ir restore 'results/demo_perceive_ir/visualization/*/*_input.png' \
	    -o results/demo_restored --suffix _restored --weights experiments/demo_perceive_ir/restorer.pth --quiet

clean:
	rm -rf $(VENV) build *.egg-info experiments results
