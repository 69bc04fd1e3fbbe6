// Delivery of password-reset e-mails ([email] settings, kisee-api.md §6):
// templates, a bounded queue drained by one thread after the HTTP answer,
// retries with back-off. The SMTP client itself (libcurl) is a
// MailTransport made by the kisee-smtp module, loaded only when needed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "idp/backend.h"
#include "kisee/core/worker_pool.h"
#include "kisee/idp/settings.h"

namespace kisee::idp {

// RenderTemplate replaces {username}, {token} and {reset_url} in `text`.
std::string RenderTemplate(std::string_view text, std::string_view username, std::string_view token,
                           std::string_view reset_url);

// ComposeMessage returns the RFC 5322 message (CRLF line ends, a UTF-8
// subject encoded per RFC 2047 when not ASCII) from `sender` to `to`.
// Header values are flattened to one line so that none can add headers.
std::string ComposeMessage(std::string_view sender, std::string_view to, std::string_view subject,
                           std::string_view body);

// MailTransport hands one message to a mail server. Implementations are
// used from one thread at a time.
class MailTransport {
 public:
  virtual ~MailTransport() = default;
  // Send delivers `message` (from ComposeMessage) from `from` to `to`.
  // Errors: kUnavailable for anything worth retrying later; the message
  // never contains the message text.
  virtual Status Send(std::string_view from, std::string_view to, std::string_view message) = 0;
};

// CreateSmtpTransport loads the kisee-smtp module and makes the transport of
// `settings`. Errors: the module's (kFailedPrecondition, one line).
Result<std::unique_ptr<MailTransport>> CreateSmtpTransport(const EmailSettings& settings);

// MailerOptions are the retry schedule (kisee-api.md §6: 1 s doubling to
// 60 s, given up after 24 h) and the queue bound; tests shorten them.
struct MailerOptions {
  std::chrono::milliseconds initial_delay{1000};
  std::chrono::milliseconds max_delay{60'000};
  std::chrono::milliseconds give_up_after{24LL * 3600 * 1000};
  std::size_t queue_capacity = 256;
};

// Mailer sends reset e-mails on its own thread, one at a time, in order. A
// failed delivery is retried on the schedule of MailerOptions and given up
// after it (logged without the token). Thread-safe.
class Mailer {
 public:
  Mailer(const EmailSettings& settings, std::unique_ptr<MailTransport> transport,
         MailerOptions options = {});
  ~Mailer() { Shutdown(); }
  Mailer(const Mailer&) = delete;
  Mailer& operator=(const Mailer&) = delete;

  // Enqueue queues the reset e-mail for `user` and returns at once. Errors:
  // kResourceExhausted when the queue is full or the mailer is stopping.
  Status Enqueue(const User& user, std::string_view token);

  // Shutdown stops waiting between retries, makes one last attempt for every
  // queued message, and joins the thread. Idempotent.
  void Shutdown();

 private:
  void Deliver(const User& user, const std::string& token);

  const EmailSettings settings_;
  const std::unique_ptr<MailTransport> transport_;
  const MailerOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  WorkerPool pool_;  // last member: its threads stop before the rest goes
};

}  // namespace kisee::idp
