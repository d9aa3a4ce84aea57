// Small process helpers shared by the runtime loaders (cuda_loader.cpp, nvrtc.cpp).
#pragma once
#include <sys/stat.h>

#include <cstdlib>
#include <string>

namespace ignis {
namespace sys {

/** The environment variable `name`, or "" when unset. */
inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

/** Whether path `p` exists (any kind of file). */
inline bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

}  // namespace sys
}  // namespace ignis
