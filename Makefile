# oblivio: the two commands a newcomer needs are `make demo` and `make test`.
#   make deps      install missing Debian packages (apt-get; sudo when not root)
#   make build     configure + build (Release; CUDA backend compiled when nvcc is found)
#   make test      deps + build + CPU tests (GPU tests report skipped without a GPU)
#   make demo      deps + build + the main job: train a Fashion-MNIST CNN (cached in runs/demo),
#                  forget one class source-free, print real test accuracy before/after
#   make bench     deps + build + Google Benchmark suite (OpenBLAS yardstick when installed)
#   make sanitize  ASan + UBSan CPU-only build running the CPU suite (no slow tests)
#   make parity    full-size resnet18/50, vit_b_16, swin_t logits vs torchvision (python3-torch)
#   make fuzz      clang libFuzzer targets (fuzz/README.md), each run FUZZ_MINUTES (default 10) min
BUILD    ?= build
SAN      ?= build-sanitize
FUZZ     ?= build-fuzz
FUZZ_MINUTES ?= 10
JOBS     ?= $(shell nproc)
CMAKE_FLAGS ?=
# OpenMP threads sleep instead of spinning when idle: with ctest -j running several test
# processes on few cores, spinning teams starve each other (measured: 10-30x slowdowns).
export OMP_WAIT_POLICY ?= PASSIVE
# Benchmarks want spinning teams on a quiet machine (lowest fork/join latency).
BENCH_WAIT_POLICY ?= ACTIVE
BENCH_ARGS ?=
# ccache, when installed, makes rebuilds (and the CUDA objects) cheap; it is optional.
CCACHE   := $(shell command -v ccache 2>/dev/null)
ifneq ($(CCACHE),)
CMAKE_FLAGS += -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache
endif

.PHONY: deps build test demo bench sanitize parity fuzz clean

deps:
	@bash tools/install_deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > $(BUILD).configure.log 2>&1 || (cat $(BUILD).configure.log; exit 1)
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure --timeout 1500

demo: build
	@bash tools/demo.sh $(BUILD)

bench: deps
	@bash tools/install_deps.sh libopenblas-dev
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > $(BUILD).configure.log 2>&1 || (cat $(BUILD).configure.log; exit 1)
	@cmake --build $(BUILD) -j $(JOBS) --target obl_bench
	OMP_WAIT_POLICY=$(BENCH_WAIT_POLICY) ./$(BUILD)/bench/obl_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true $(BENCH_ARGS)

sanitize: deps
	@cmake -S . -B $(SAN) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOBL_CUDA=OFF -DOBL_SANITIZE=ON -DOBL_BUILD_BENCH=OFF > $(SAN).configure.log 2>&1 || (cat $(SAN).configure.log; exit 1)
	@cmake --build $(SAN) -j $(JOBS)
	cd $(SAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest -LE "gpu|slow" -j $(JOBS) --output-on-failure

parity: build
	/usr/bin/python3 tools/parity.py --bin $(BUILD)/tests/obl_tests

fuzz: deps
	@bash tools/install_deps.sh clang libclang-rt-dev libomp-dev
	@cmake -S . -B $(FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DOBL_CUDA=OFF -DOBL_FUZZ=ON -DOBL_BUILD_TESTS=OFF -DOBL_BUILD_BENCH=OFF $(CMAKE_FLAGS) > $(FUZZ).configure.log 2>&1 || (cat $(FUZZ).configure.log; exit 1)
	@cmake --build $(FUZZ) -j $(JOBS) --target obl_fuzz
	@bash fuzz/run.sh $(FUZZ) $(FUZZ_MINUTES)

clean:
	rm -rf $(BUILD) $(SAN) $(FUZZ) $(BUILD).configure.log $(SAN).configure.log $(FUZZ).configure.log
