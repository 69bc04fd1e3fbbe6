// HTTP/1.1 framing written by hand: response heads for the server and
// request heads for the client, straight into one reusable buffer (no
// per-field allocation), with the checks that keep a header from smuggling
// a line break.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "kisee/core/error.h"
#include "kisee/net/http.h"

namespace kisee::net::internal {

// IsToken tells whether `text` is a non-empty RFC 9110 token (header names,
// methods).
bool IsToken(std::string_view text);
// IsFieldValue tells whether `text` may be sent as a header value (no CR,
// LF, NUL or other control character except tab).
bool IsFieldValue(std::string_view text);

// HttpDate returns the current time as an IMF-fixdate ("Sun, 06 Nov 1994
// 08:49:37 GMT"), cached per thread and second. Valid until the next call
// on this thread.
std::string_view HttpDate();

// ResponseHasBody tells whether a response with `status` carries a body
// (not 1xx, 204 or 304).
bool ResponseHasBody(int status);

// AppendResponseHead writes the status line and headers of `response` to
// `out`: the reason phrase sanitised, fields with an invalid name or value
// and the framing fields (Content-Length, Transfer-Encoding, Connection,
// Keep-Alive, Date) dropped, then Date, Content-Length (`content_length`,
// when the status allows a body) and Connection.
void AppendResponseHead(const Response& response, std::size_t content_length, bool close,
                        bool http10_keep_alive, std::string& out);

// AppendRequestHead writes a request head for the client; adds Host (if
// absent), Content-Length (if there is a body or the method usually has
// one). Errors: kInvalidArgument for a bad method, target or header.
Status AppendRequestHead(std::string_view method, std::string_view target,
                         std::string_view host_header, const Headers& headers,
                         std::size_t body_size, std::string& out);

}  // namespace kisee::net::internal
