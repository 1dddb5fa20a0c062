# One-command entry points (see README.md).
#   make run    set up, build, and run the main job on the bundled demo dataset
#   make test   set up, build, and run the whole test suite
BUILD_DIR ?= build
BUILD_TYPE ?= Release
CMAKE_FLAGS ?=
DEMO := resources/demo/seurat_pbmc_small_80.h5ad
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_BASEDIR := $(CURDIR)

.PHONY: deps configure build run test clean

deps:
	bash installer/setup-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR)

# With a display: the desktop application with the demo dataset open. Without: the
# headless main job (`cellwright-cli demo`), whose results land in cellwright-demo/.
run: build
	@if [ -n "$$DISPLAY" ] && [ -x $(BUILD_DIR)/app/cellwright ]; then \
	  $(BUILD_DIR)/app/cellwright --open $(DEMO); \
	else \
	  $(BUILD_DIR)/app/cellwright-cli demo -o cellwright-demo; \
	fi

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -j2

clean:
	rm -rf $(BUILD_DIR)
