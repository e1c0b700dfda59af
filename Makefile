# rql — build, tests, benchmarks.  `make` builds ./rql and build/*/librql.a;
# `make check` installs missing Debian packages, builds and runs every suite;
# `make check SANITIZE=1` does the same under ASan + UBSan; `make run` runs the
# default experiment; `make bench` runs the benchmarks. `make MPI=0` builds
# rql sweep without MPI even where mpicc is installed.
CC      ?= gcc
SANITIZE ?= 0
PY      := /usr/bin/python3

ifeq ($(SANITIZE),1)
BUILD   := build/san
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else
BUILD   := build/rel
OPT     := -O3 -march=native -g
endif

WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
HDF5_CF  := $(shell pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)
HDF5_LD  := $(shell pkg-config --libs hdf5 2>/dev/null || echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5)
BLAS_CF  := $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LD  := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
CFLAGS   += -std=gnu11 $(OPT) $(WARN) -fopenmp $(HDF5_CF) $(BLAS_CF) -I.
# GSL's "alternative CBLAS" recipe: -lgsl -lopenblas, never -lgslcblas.
LDLIBS   := $(HDF5_LD) -lhdf5_hl -lconfig -lgsl $(BLAS_LD) -lm -lpthread
CHECK_LD := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm)
# MPI for `rql sweep` under mpirun: on when mpicc is found (Debian:
# libopenmpi-dev, openmpi-bin); `make MPI=0` builds without it. Only
# cli/cmd_sweep.c uses MPI, and only ./rql links it.
MPI      ?= $(if $(shell command -v mpicc 2>/dev/null),1,0)
ifeq ($(MPI),1)
MPI_CF   := -DRQL_MPI $(shell mpicc --showme:compile 2>/dev/null || pkg-config --cflags ompi 2>/dev/null)
MPI_LD   := $(shell mpicc --showme:link 2>/dev/null || pkg-config --libs ompi 2>/dev/null)
endif
LDFLAGS  += -fopenmp $(OPT)

MODULES  := util nets envs agents log stats experiments bench cli
LIBSRC   := $(filter-out cli/rql.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
LIBOBJ   := $(LIBSRC:%.c=$(BUILD)/%.o)
TESTSRC  := $(wildcard tests/check_*.c)
TESTBIN  := $(TESTSRC:tests/%.c=$(BUILD)/tests/%)
HEADERS  := $(foreach m,$(MODULES),$(wildcard $(m)/*.h)) $(wildcard tests/*.h)

# cmd_sweep.o is rebuilt when the MPI setting changes (a stamp holding it).
MPI_STAMP := $(BUILD)/mpi.flags
$(shell mkdir -p $(BUILD) && (echo '$(MPI) $(MPI_CF) $(MPI_LD)' | cmp -s - $(MPI_STAMP) || \
        echo '$(MPI) $(MPI_CF) $(MPI_LD)' > $(MPI_STAMP)))

.SECONDEXPANSION:
.SECONDARY:
.PHONY: all deps check check-c check-sanitize bench run clean
all: $(BUILD)/rql rql

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The optimizer's loops call sqrtf: without errno to set, it is one vector
# instruction and the loops vectorise (results unchanged: sqrt is exact).
$(BUILD)/nets/optim.o: CFLAGS += -fno-math-errno
$(BUILD)/nets/optim.o: Makefile

$(BUILD)/librql.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $^

# One archive per module too, so a module's suite links only what it depends
# on (experiments -> agents -> nets, experiments -> envs).
$(BUILD)/lib%.a: $$(addprefix $(BUILD)/,$$(addsuffix .o,$$(basename $$(wildcard $$*/*.c))))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/cli/cmd_sweep.o: CFLAGS += $(MPI_CF)
$(BUILD)/cli/cmd_sweep.o: $(MPI_STAMP)

# rql links every object directly (not through the archive) so that the
# optional commands, declared weak in rql.c, are present when their file is.
$(BUILD)/rql: $(BUILD)/cli/rql.o $(LIBOBJ) $(BUILD)/librql.a
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/cli/rql.o $(LIBOBJ) $(LDLIBS) $(MPI_LD)

rql: $(BUILD)/rql
	@ln -sf $(BUILD)/rql rql

# tests/check_nets*.c link nets only; check_envs* envs only; anything else
# (check_agents too: its learning tests train through experiments/learn.c and
# its resume tests write checkpoints through log/ckpt.c) links it all.
testlibs = $(if $(filter check_nets%,$(1)),$(BUILD)/libnets.a $(BUILD)/libutil.a,$(if $(filter check_envs%,$(1)),$(BUILD)/libenvs.a $(BUILD)/libutil.a,$(BUILD)/librql.a))

$(BUILD)/tests/%: tests/%.c $$(call testlibs,$$*) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ $(call testlibs,$*) $(CHECK_LD) $(LDLIBS) $(LDFLAGS)

deps:
	@scripts/install-deps --quiet

check: deps
	@$(MAKE) --no-print-directory check-c

check-c: $(BUILD)/rql $(TESTBIN)
	@BUILD=$(BUILD) PY=$(PY) tests/run-tests $(TESTBIN)

check-sanitize: deps
	@$(MAKE) --no-print-directory SANITIZE=1 check-c

bench: deps $(BUILD)/rql
	$(BUILD)/rql bench all

run: deps $(BUILD)/rql rql
	$(BUILD)/rql train experiments/configs/tmaze_memory.cfg -o runs/tmaze_memory --force
	@if $(PY) -c 'import h5py, pandas, matplotlib' 2>/dev/null; then \
	  $(PY) scripts/plot_curves.py runs/tmaze_memory -o runs/tmaze_memory/curves && \
	  $(PY) scripts/plot_memory.py runs/tmaze_memory/drqn-lstm/seed0.h5 -o runs/tmaze_memory/memory && \
	  echo "learning curves: runs/tmaze_memory/curves.png" && \
	  echo "LSTM memory:     runs/tmaze_memory/memory.png"; \
	else \
	  echo "(no plots: install python3-h5py python3-pandas python3-matplotlib)"; \
	fi

clean:
	rm -rf build rql
