#pragma once
// Distances for hnswlib that pick AVX2 + FMA at run time when the CPU has them (hnswlib
// chooses its SIMD at compile time, and portable builds get SSE). Vectors are stored padded
// with zeros to a multiple of 8 floats, so the loops need no remainder. No hnswlib include
// here: its 0.6 headers define functions that may be included in one file only.
#include <cstddef>

namespace cw::analysis::detail {

// Number of floats a stored vector of `dims` takes (a multiple of 8).
constexpr size_t paddedDims(size_t dims) { return (dims + 7) / 8 * 8; }

enum class SpaceKind { SquaredL2, InnerProduct };  // inner product distance: 1 - <x, y>

// hnswlib's DISTFUNC signature; the third argument points to the padded size (size_t).
using PaddedDistance = float (*)(const void*, const void*, const void*);
PaddedDistance paddedDistance(SpaceKind kind);

}  // namespace cw::analysis::detail
