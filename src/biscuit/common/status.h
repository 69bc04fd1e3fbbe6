// Propagation helpers for kisee::biscuit::Result (the project's pair,
// specialised to the biscuit error tree). Internal to the library.
#pragma once

#include "kisee/biscuit/error.h"

#define BISCUIT_CONCAT_INNER_(a, b) a##b
#define BISCUIT_CONCAT_(a, b) BISCUIT_CONCAT_INNER_(a, b)

#define BISCUIT_RETURN_IF_ERROR(expr)                                                      \
  do {                                                                                     \
    auto&& biscuit_status_ = (expr);                                                       \
    if (!biscuit_status_) {                                                                \
      return std::unexpected<::kisee::biscuit::Error>(std::move(biscuit_status_).error()); \
    }                                                                                      \
  } while (false)

#define BISCUIT_ASSIGN_OR_RETURN(lhs, expr) \
  BISCUIT_ASSIGN_OR_RETURN_IMPL_(BISCUIT_CONCAT_(biscuit_result_, __LINE__), lhs, expr)
#define BISCUIT_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr)                       \
  auto result = (expr);                                                         \
  if (!result) {                                                                \
    return std::unexpected<::kisee::biscuit::Error>(std::move(result).error()); \
  }                                                                             \
  lhs = std::move(*result)
