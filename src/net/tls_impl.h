// The insides of the TLS contexts: an asio ssl::context each (which owns
// the SSL_CTX). Only src/net sees Boost.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <utility>

#include "kisee/net/tls.h"

namespace kisee::net {

struct TlsServerContext::Impl {
  explicit Impl(boost::asio::ssl::context context) : ssl(std::move(context)) {}
  boost::asio::ssl::context ssl;
  bool mutual = false;
};

struct TlsClientContext::Impl {
  explicit Impl(boost::asio::ssl::context context) : ssl(std::move(context)) {}
  boost::asio::ssl::context ssl;
};

}  // namespace kisee::net
