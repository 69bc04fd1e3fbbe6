// A Beast parser that writes straight into our Request: no intermediate
// beast::http::fields (one allocation per header) to copy from afterwards.
#pragma once

#include <algorithm>
#include <boost/beast/http/basic_parser.hpp>
#include <cstdint>

#include "kisee/net/http.h"

namespace kisee::net::internal {

// RequestParser parses one request into a borrowed Request (which must
// outlive it). The limits (header_limit, body_limit) are basic_parser's.
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  explicit RequestParser(Request& request) : request_(request) {}

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb, string_view method, string_view target,
                       int version, error_code&) override {
    request_.method.assign(method.data(), method.size());
    request_.target.assign(target.data(), target.size());
    std::string_view whole(target.data(), target.size());
    std::size_t question = whole.find('?');
    request_.path.assign(whole.substr(0, question));
    if (question == std::string_view::npos) {
      request_.query.clear();
    } else {
      request_.query.assign(whole.substr(question + 1));
    }
    request_.version = version;
  }

  void on_response_impl(int, string_view, int, error_code&) override {}

  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code&) override {
    request_.headers.Add(std::string(name.data(), name.size()),
                         std::string(value.data(), value.size()));
  }

  void on_header_impl(error_code&) override {}

  void on_body_init_impl(boost::optional<std::uint64_t> const& content_length,
                         error_code&) override {
    // The parser has already checked content_length against body_limit.
    if (content_length) request_.body.reserve(static_cast<std::size_t>(*content_length));
  }

  std::size_t on_body_impl(string_view body, error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(error_code&) override {}

  Request& request_;
};

}  // namespace kisee::net::internal
