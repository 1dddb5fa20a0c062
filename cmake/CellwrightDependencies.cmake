# Third-party dependencies. Each optional backend has a CELLWRIGHT_WITH_* option that
# defaults to ON when the package is found, so the engine also builds where it is missing
# (the GPU machine has no igraph or hnswlib).

# --- LibTorch: Debian's 1.13 (CPU) here, PyTorch 2.x's on the GPU machine.
find_package(Torch REQUIRED)
# Wrap torch in one interface target so consumers link it PRIVATE and get its flags.
add_library(cellwright_torch_deps INTERFACE)
target_link_libraries(cellwright_torch_deps INTERFACE ${TORCH_LIBRARIES})
separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
# The libstdc++ ABI flag must match across all our code, not only torch users.
add_compile_options(${_torch_flags})
target_compile_options(cellwright_torch_deps INTERFACE ${_torch_flags})
add_library(cellwright::torch ALIAS cellwright_torch_deps)
if(TARGET torch_cuda OR CUDA_FOUND OR CAFFE2_USE_CUDA)
  set(CELLWRIGHT_TORCH_CUDA ON)
else()
  set(CELLWRIGHT_TORCH_CUDA OFF)
endif()
# Our own kernels (plugins/builtin/cuda) need the CUDA language, enabled at the top level.
option(CELLWRIGHT_CUDA_KERNELS "Build Cellwright's own CUDA kernels where LibTorch has CUDA" ON)
set(CELLWRIGHT_BUILD_CUDA_KERNELS OFF)
if(CELLWRIGHT_TORCH_CUDA AND CELLWRIGHT_CUDA_KERNELS)
  set(CELLWRIGHT_BUILD_CUDA_KERNELS ON)
endif()
if(CELLWRIGHT_BUILD_CUDA_KERNELS OR CELLWRIGHT_CUDA_KERNEL_CHECK)
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)  # the H100 of the GPU machine
  endif()
  enable_language(CUDA)
endif()

# A tiny library that owns the torch precompiled header; torch users reuse it.
add_library(cellwright_torch_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/torch_pch.cpp)
target_link_libraries(cellwright_torch_pch PUBLIC cellwright_torch_deps)
target_precompile_headers(cellwright_torch_pch PRIVATE <torch/torch.h>)

# Link torch PRIVATE to `target` and reuse the shared precompiled header.
function(cellwright_use_torch target)
  cmake_parse_arguments(ARG "PUBLIC" "" "" ${ARGN})
  if(ARG_PUBLIC)
    target_link_libraries(${target} PUBLIC cellwright_torch_deps)
  else()
    target_link_libraries(${target} PRIVATE cellwright_torch_deps)
  endif()
  target_precompile_headers(${target} REUSE_FROM cellwright_torch_pch)
  # The shared header was compiled -fPIC (static library); executables default to -fPIE,
  # which GCC refuses to mix with that header. -fPIC is valid for executables too.
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "EXECUTABLE")
    target_compile_options(${target} PRIVATE -fPIC)
  endif()
endfunction()

# --- torch.distributed backends (Gloo needs libgloo-dev with Debian's libtorch).
include(CheckIncludeFileCXX)
set(CMAKE_REQUIRED_INCLUDES ${TORCH_INCLUDE_DIRS})
find_path(GLOO_INCLUDE_DIR gloo/config.h)
if(GLOO_INCLUDE_DIR OR EXISTS "${TORCH_INSTALL_PREFIX}/include/gloo")
  set(_gloo_default ON)
else()
  set(_gloo_default OFF)
endif()
option(CELLWRIGHT_WITH_GLOO "Distributed training over Gloo (CPU)" ${_gloo_default})
set(CELLWRIGHT_WITH_NCCL ${CELLWRIGHT_TORCH_CUDA})

# --- HDF5: the serial build (Debian's libhdf5-dev). Never the MPI one VTK's IO modules bring.
set(HDF5_PREFER_PARALLEL OFF)
find_package(HDF5 REQUIRED COMPONENTS C)
if(HDF5_IS_PARALLEL)
  message(FATAL_ERROR "Cellwright needs the serial HDF5 (libhdf5-dev), found a parallel build")
endif()
add_library(cellwright_hdf5_deps INTERFACE)
target_include_directories(cellwright_hdf5_deps SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(cellwright_hdf5_deps INTERFACE ${HDF5_C_LIBRARIES} ${HDF5_LIBRARIES})
target_compile_definitions(cellwright_hdf5_deps INTERFACE ${HDF5_DEFINITIONS} H5_USE_110_API)
add_library(cellwright::hdf5 ALIAS cellwright_hdf5_deps)

find_package(ZLIB REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)

# --- Optional analysis backends.
find_package(igraph 0.10 QUIET)
option(CELLWRIGHT_WITH_IGRAPH "Leiden clustering and graph layout through igraph" ${igraph_FOUND})
if(CELLWRIGHT_WITH_IGRAPH AND NOT igraph_FOUND)
  message(FATAL_ERROR "CELLWRIGHT_WITH_IGRAPH is ON but igraph was not found (libigraph-dev)")
endif()

find_path(HNSWLIB_INCLUDE_DIR hnswlib/hnswlib.h)
if(HNSWLIB_INCLUDE_DIR)
  set(_hnsw_default ON)
else()
  set(_hnsw_default OFF)
endif()
option(CELLWRIGHT_WITH_HNSWLIB "Approximate nearest neighbours through hnswlib" ${_hnsw_default})
if(CELLWRIGHT_WITH_HNSWLIB)
  add_library(cellwright_hnswlib_deps INTERFACE)
  target_include_directories(cellwright_hnswlib_deps SYSTEM INTERFACE ${HNSWLIB_INCLUDE_DIR})
  add_library(cellwright::hnswlib ALIAS cellwright_hnswlib_deps)
endif()

# --- Tests.
# On machines whose prebuilt GoogleTest was compiled with another libstdc++ ABI than torch
# (PyTorch wheels), build it from Debian's googletest sources instead.
set(CELLWRIGHT_GTEST_SOURCE_DIR "" CACHE PATH "Build GoogleTest from this source tree")
if(CELLWRIGHT_BUILD_TESTS)
  if(CELLWRIGHT_GTEST_SOURCE_DIR)
    set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
    add_subdirectory(${CELLWRIGHT_GTEST_SOURCE_DIR} ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
  else()
    find_package(GTest REQUIRED)
  endif()
endif()
