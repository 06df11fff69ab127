// Argument decoding for the Node-API functions: typed arrays become raw pointers after a bounds
// check (a JavaScript bug must throw, never corrupt memory), numbers become int64/float.
#pragma once

#include <node_api.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

namespace llmkit {

class Call {
 public:
  static constexpr size_t kMaxArgs = 24;

  Call(napi_env env, napi_callback_info info, const char* name) : env_(env), name_(name) {
    argc_ = kMaxArgs;
    if (napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr) != napi_ok) fail("bad call");
  }

  bool failed() const { return failed_; }
  napi_env env() const { return env_; }

  // Throws a RangeError "<kernel>: <message>" (only the first failure is reported).
  void fail(const char* format, ...) {
    if (failed_) return;
    failed_ = true;
    char message[320];
    int used = std::snprintf(message, sizeof message, "%s: ", name_);
    va_list args;
    va_start(args, format);
    std::vsnprintf(message + used, sizeof message - used, format, args);
    va_end(args);
    napi_throw_range_error(env_, "E_CPU_KERNEL_ARGS", message);
  }

  double number(size_t i) {
    double value = 0;
    if (i >= argc_ || napi_get_value_double(env_, argv_[i], &value) != napi_ok) {
      fail("argument %zu must be a number", i);
    }
    return value;
  }
  int64_t integer(size_t i) {
    double value = number(i);
    if (!failed_ && (value != static_cast<double>(static_cast<int64_t>(value)) || value < 0)) {
      fail("argument %zu must be a non-negative integer, got %g", i, value);
    }
    return static_cast<int64_t>(value);
  }
  // A string argument (at most 63 bytes: ISA and feature names).
  std::string text(size_t i) {
    char buffer[64] = {};
    size_t length = 0;
    if (i >= argc_ ||
        napi_get_value_string_utf8(env_, argv_[i], buffer, sizeof buffer, &length) != napi_ok) {
      fail("argument %zu must be a string", i);
    }
    return std::string(buffer, length);
  }
  bool flag(size_t i) {
    bool value = false;
    if (i >= argc_ || napi_get_value_bool(env_, argv_[i], &value) != napi_ok) {
      fail("argument %zu must be a boolean", i);
    }
    return value;
  }
  bool is_null(size_t i) {
    napi_valuetype type = napi_undefined;
    if (i < argc_) napi_typeof(env_, argv_[i], &type);
    return type == napi_null || type == napi_undefined;
  }

  // A Float32Array holding at least `need` elements; null when optional and the argument is null.
  float* floats(size_t i, int64_t need, bool optional = false) {
    return static_cast<float*>(array(i, napi_float32_array, "Float32Array", need, optional));
  }
  int32_t* ints(size_t i, int64_t need, bool optional = false) {
    return static_cast<int32_t*>(array(i, napi_int32_array, "Int32Array", need, optional));
  }
  int8_t* signed_bytes(size_t i, int64_t need) {
    return static_cast<int8_t*>(array(i, napi_int8_array, "Int8Array", need, false));
  }
  uint8_t* bytes(size_t i, int64_t need) {
    return static_cast<uint8_t*>(array(i, napi_uint8_array, "Uint8Array", need, false));
  }
  const double* doubles(size_t i, int64_t need) {
    return static_cast<const double*>(array(i, napi_float64_array, "Float64Array", need, false));
  }
  // Element count of the typed array at i (0 on failure).
  int64_t length(size_t i) {
    napi_typedarray_type type;
    size_t count = 0;
    void* data = nullptr;
    if (i >= argc_ ||
        napi_get_typedarray_info(env_, argv_[i], &type, &count, &data, nullptr, nullptr) !=
            napi_ok) {
      fail("argument %zu must be a typed array", i);
      return 0;
    }
    return static_cast<int64_t>(count);
  }

  napi_value undefined() {
    napi_value value;
    napi_get_undefined(env_, &value);
    return value;
  }

 private:
  void* array(size_t i, napi_typedarray_type want, const char* want_name, int64_t need,
              bool optional) {
    if (failed_) return nullptr;
    if (optional && is_null(i)) return nullptr;
    bool is_typed = false;
    if (i >= argc_ || napi_is_typedarray(env_, argv_[i], &is_typed) != napi_ok || !is_typed) {
      fail("argument %zu must be a %s", i, want_name);
      return nullptr;
    }
    napi_typedarray_type type;
    size_t count = 0;
    void* data = nullptr;
    napi_get_typedarray_info(env_, argv_[i], &type, &count, &data, nullptr, nullptr);
    if (type != want) {
      fail("argument %zu must be a %s", i, want_name);
      return nullptr;
    }
    if (need < 0 || static_cast<int64_t>(count) < need) {
      fail("argument %zu has %zu elements, needs %lld", i, count, static_cast<long long>(need));
      return nullptr;
    }
    return data;
  }

  napi_env env_;
  const char* name_;
  size_t argc_ = 0;
  napi_value argv_[kMaxArgs];
  bool failed_ = false;
};

}  // namespace llmkit
