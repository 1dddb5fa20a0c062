# Compiler launcher and warning flags shared by every Cellwright target.

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

# Applied to our own targets only (third-party headers come in as SYSTEM includes).
function(cellwright_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
  # GCC 12 reports false positives from libstdc++'s own string/vector code at -O2
  # (GCC bugs 105329, 105651): not findings about our code.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-stringop-overflow -Wno-restrict -Wno-array-bounds)
  endif()
  if(CELLWRIGHT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Define a library target `cellwright_<name>` with alias `cellwright::<name>`.
function(cellwright_add_library name)
  cmake_parse_arguments(ARG "INTERFACE" "" "SOURCES" ${ARGN})
  if(ARG_INTERFACE)
    add_library(cellwright_${name} INTERFACE)
  else()
    add_library(cellwright_${name} STATIC ${ARG_SOURCES})
    cellwright_set_warnings(cellwright_${name})
  endif()
  add_library(cellwright::${name} ALIAS cellwright_${name})
endfunction()
