# The two set-up commands of the README:
#   make quickstart   install into .venv, then train teacher / student / KD
#                     (and each method) on the embedded MNIST data, print a table
#   make test         install into .venv, then run the test suite
# Both create the project-local virtual environment on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQS := requirements/torch.txt requirements/mminstall.txt \
        requirements/runtime.txt requirements/tests.txt \
        requirements/ecosystem.txt
# mmcv: full mmcv 2.1.0 (compiled ops, for mmseg's and mmdet's models) from
# a wheel in MMCV_WHEEL_DIR when one is there, else mmcv-lite (requirements/
# mmcv.txt). The two install the same package; the other one is removed.
# The default folder is where this project's build machines keep the wheel;
# elsewhere: make test MMCV_WHEEL_DIR=/folder/with/the/wheel
MMCV_WHEEL_DIR ?= ../shared/wheels
MMCV_WHEEL := $(firstword $(wildcard $(MMCV_WHEEL_DIR)/mmcv-2.1.0-*.whl))
ifneq ($(MMCV_WHEEL),)
MMCV := $(MMCV_WHEEL)
MMCV_OTHER := mmcv-lite
else
MMCV := -r requirements/mmcv.txt
MMCV_OTHER := mmcv
endif

.PHONY: install quickstart test clean-venv

install: $(STAMP)

$(STAMP): $(REQS) requirements/mmcv.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip uninstall -y $(MMCV_OTHER)
	$(PY) -m pip install $(addprefix -r ,$(REQS)) $(MMCV)
	$(PY) -m pip install --no-deps -e .
	$(PY) -c "import mmkd_contrast, torch; print('mmkd_contrast', mmkd_contrast.__version__, 'torch', torch.__version__)"
	touch $(STAMP)

quickstart: $(STAMP)
	$(PY) tools/quickstart.py

# -rs lists the skipped tests with their reasons (the real mmseg / mmdet
# model tests skip where full mmcv 2.1 is not installed).
test: $(STAMP)
	$(PY) -m pytest -q -rs tests

clean-venv:
	rm -rf $(VENV)

# make benchmark   the accuracy benchmark on the embedded data (3 seeds) and
#                  the iteration-time benchmark with the torchdistill peer
.PHONY: benchmark
benchmark: $(STAMP)
	$(PY) -m pip install --no-deps -r requirements/benchmarks.txt
	$(PY) benchmarks/accuracy_embedded.py --jobs 2
	$(PY) benchmarks/speed_all.py
