// dtype codes shared with src/dtype.ts (DTYPE_CODE). Keep the two in sync: test/native/dtype.test.ts checks.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ignis {

enum class DType : int { f32 = 0, f64 = 1, i32 = 2, i64 = 3, b8 = 4 };
constexpr int kNumDTypes = 5;

inline size_t dtype_size(DType d) {
  switch (d) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::b8: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::b8: return "bool";
  }
  return "?";
}

inline bool dtype_valid(int code) { return code >= 0 && code < kNumDTypes; }
inline bool is_floating(DType d) { return d == DType::f32 || d == DType::f64; }

}  // namespace ignis

// Run __VA_ARGS__ with T bound to the C++ type of dtype `dt`. bool is stored as uint8_t.
#define IGNIS_CASE(code, type, T, ...) \
  case code: {                         \
    using T = type;                    \
    __VA_ARGS__;                       \
    break;                             \
  }
#define IGNIS_DISPATCH_ALL(dt, T, ...)                                             \
  switch (dt) {                                                                    \
    IGNIS_CASE(::ignis::DType::f32, float, T, __VA_ARGS__)                         \
    IGNIS_CASE(::ignis::DType::f64, double, T, __VA_ARGS__)                        \
    IGNIS_CASE(::ignis::DType::i32, int32_t, T, __VA_ARGS__)                       \
    IGNIS_CASE(::ignis::DType::i64, int64_t, T, __VA_ARGS__)                       \
    IGNIS_CASE(::ignis::DType::b8, uint8_t, T, __VA_ARGS__)                        \
    default: throw ::ignis::Error("DTypeError", "unknown dtype code");            \
  }
#define IGNIS_DISPATCH_FLOAT(dt, T, op, ...)                                       \
  switch (dt) {                                                                    \
    IGNIS_CASE(::ignis::DType::f32, float, T, __VA_ARGS__)                         \
    IGNIS_CASE(::ignis::DType::f64, double, T, __VA_ARGS__)                        \
    default:                                                                       \
      throw ::ignis::Error("DTypeError", std::string(op) + ": expected a floating dtype, got " + \
                                             ::ignis::dtype_name(dt));             \
  }
