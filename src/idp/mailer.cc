#include "idp/mailer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>

#include "idp/module.h"
#include "kisee/core/bytes.h"
#include "kisee/core/random.h"

namespace kisee::idp {
namespace {

// Header values must not smuggle in more headers.
std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\r' || c == '\n') {
      c = ' ';
    }
  }
  return out;
}

bool IsAscii(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) {
      return false;
    }
  }
  return true;
}

// SMTP wants CRLF line ends; templates from a TOML file have bare LF.
std::string CrlfLines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
      out += "\r\n";
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::string RenderTemplate(std::string_view text, std::string_view username, std::string_view token,
                           std::string_view reset_url) {
  // One pass over the template: a value is inserted as it is, never read
  // again for placeholders (a username may well contain "{token}").
  const std::pair<std::string_view, std::string_view> kPlaceholders[] = {
      {"{username}", username}, {"{reset_url}", reset_url}, {"{token}", token}};
  std::string out;
  out.reserve(text.size() + reset_url.size() + token.size());
  for (std::size_t pos = 0; pos < text.size();) {
    bool replaced = false;
    for (const auto& [name, value] : kPlaceholders) {
      if (text.substr(pos).starts_with(name)) {
        out += value;
        pos += name.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      out += text[pos++];
    }
  }
  return out;
}

std::string ComposeMessage(std::string_view sender, std::string_view to, std::string_view subject,
                           std::string_view body) {
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tm_utc{};
  gmtime_r(&now, &tm_utc);
  std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm_utc);
  std::string encoded_subject = OneLine(subject);
  if (!IsAscii(encoded_subject)) {
    encoded_subject =
        "=?UTF-8?B?" +
        Base64Encode(AsBytes(encoded_subject),
                     {.alphabet = Base64Alphabet::kStandard, .padding = Base64Padding::kRequired}) +
        "?=";
  }
  std::string text = CrlfLines(body);
  if (!text.ends_with("\r\n")) {
    text += "\r\n";
  }
  return fmt::format(
      "Date: {}\r\nFrom: {}\r\nTo: {}\r\nSubject: {}\r\nMessage-ID: <{}@kisee>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n{}",
      date, OneLine(sender), OneLine(to), encoded_subject, RandomId(), text);
}

Result<std::unique_ptr<MailTransport>> CreateSmtpTransport(const EmailSettings& settings) {
  KISEE_ASSIGN_OR_RETURN(const ModuleApi* api, LoadModule("smtp"));
  if (api->create_mail_transport == nullptr) {
    return MakeError(ErrorCode::kFailedPrecondition, "module kisee-smtp has no mail transport");
  }
  return api->create_mail_transport(settings);
}

Mailer::Mailer(const EmailSettings& settings, std::unique_ptr<MailTransport> transport,
               MailerOptions options)
    : settings_(settings),
      transport_(std::move(transport)),
      options_(options),
      pool_(1, options.queue_capacity) {}

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
  const std::string message = ComposeMessage(settings_.sender, user.email, subject, body);
  const auto give_up = std::chrono::steady_clock::now() + options_.give_up_after;
  auto delay = options_.initial_delay;
  // Logs name the user, never the token, the URL or the message.
  for (;;) {
    Status sent = transport_->Send(settings_.sender, user.email, message);
    if (sent) {
      spdlog::info("reset e-mail sent for {}", user.user_id);
      return;
    }
    if (stopping_ || std::chrono::steady_clock::now() + delay > give_up) {
      spdlog::error("reset e-mail for {} not delivered, giving up: {}", user.user_id,
                    sent.error().message());
      return;
    }
    spdlog::warn("reset e-mail for {} failed ({}), retrying in {} ms", user.user_id,
                 sent.error().message(), delay.count());
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
    delay = std::min(delay * 2, options_.max_delay);
  }
}

}  // namespace kisee::idp
