// Every native failure is an ignis::Error with a kind that names the JS error class
// (ShapeError, DTypeError, DeviceError, IndexError, MemoryError, ValueError). The binding turns it
// into a JS exception; nothing in native code may abort the process on bad input.
#pragma once
#include <stdexcept>
#include <string>

namespace ignis {

struct Error : std::runtime_error {
  std::string kind;
  Error(std::string k, const std::string& msg) : std::runtime_error(msg), kind(std::move(k)) {}
};

}  // namespace ignis
