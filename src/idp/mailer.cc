#include "idp/mailer.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <ctime>

#include "kisee/core/random.h"

namespace kisee::idp {
namespace {

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

// Header values must not smuggle in more headers.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\r' || c == '\n') {
      c = ' ';
    }
  }
  return text;
}

struct Upload {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t ReadBody(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  std::size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::memcpy(buffer, upload->data.data() + upload->offset, n);
  upload->offset += n;
  return n;
}

}  // namespace

std::string RenderTemplate(std::string_view text, std::string_view username, std::string_view token,
                           std::string_view reset_url) {
  std::string out(text);
  ReplaceAll(out, "{username}", username);
  ReplaceAll(out, "{reset_url}", reset_url);
  ReplaceAll(out, "{token}", token);
  return out;
}

Mailer::Mailer(const EmailSettings& settings) : settings_(settings), pool_(1, 256) {
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) {
    spdlog::error("libcurl failed to initialise: reset e-mails cannot be sent");
  }
}

Status Mailer::Enqueue(const User& user, std::string_view token) {
  if (stopping_ ||
      !pool_.TrySubmit([this, user, token = std::string(token)] { Deliver(user, token); })) {
    return MakeError(ErrorCode::kResourceExhausted, "the e-mail queue is full");
  }
  return Ok();
}

void Mailer::Shutdown() {
  stopping_ = true;
  wake_.notify_all();
  pool_.Shutdown();
}

void Mailer::Deliver(const User& user, const std::string& token) {
  const std::string reset_url = RenderTemplate(settings_.reset_url, user.username, token, "");
  const std::string subject = RenderTemplate(settings_.subject, user.username, token, reset_url);
  const std::string body = RenderTemplate(settings_.body, user.username, token, reset_url);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::hours(24);
  auto delay = std::chrono::seconds(1);
  for (;;) {
    Status sent = SendOnce(user.email, subject, body);
    if (sent) {
      spdlog::info("reset e-mail sent for {}", user.user_id);
      return;
    }
    if (stopping_ || std::chrono::steady_clock::now() + delay > give_up) {
      spdlog::error("reset e-mail for {} not delivered: {}", user.user_id, sent.error().message());
      return;
    }
    spdlog::warn("reset e-mail for {} failed ({}), retrying in {} s", user.user_id,
                 sent.error().message(), delay.count());
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
    delay = std::min(delay * 2, std::chrono::seconds(60));
  }
}

Status Mailer::SendOnce(const std::string& to, const std::string& subject,
                        const std::string& body) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  }
  const std::string scheme = settings_.security == "tls" ? "smtps" : "smtp";
  const std::string url = fmt::format("{}://{}:{}", scheme, settings_.host, settings_.port);
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tm_utc{};
  gmtime_r(&now, &tm_utc);
  std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm_utc);
  const std::string message = fmt::format(
      "Date: {}\r\nFrom: {}\r\nTo: {}\r\nSubject: {}\r\nMessage-ID: <{}@kisee>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
      date, OneLine(settings_.sender), OneLine(to), OneLine(subject), RandomId(), body);
  Upload upload{message};
  const std::string from = "<" + settings_.sender + ">";
  const std::string rcpt = "<" + to + ">";
  curl_slist* recipients = curl_slist_append(nullptr, rcpt.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (settings_.security == "starttls") {
    curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  }
  if (!settings_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(recipients);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return MakeError(ErrorCode::kUnavailable, fmt::format("smtp: {}", curl_easy_strerror(rc)));
  }
  return Ok();
}

}  // namespace kisee::idp
