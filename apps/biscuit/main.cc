// biscuit: the command line tool, mirroring the reference CLI (biscuit-cli):
// keypair, generate, attenuate, inspect, seal and the third-party block
// commands, with the reference's flag names, output and exit statuses: 0 when
// everything asked for succeeded (for inspect: signatures, authorization and
// query), 1 for any refusal or error, usage errors included (one line on
// stderr; biscuit.md fixes 1 where the reference's clap exits 2 on usage).
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <expected>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kisee/biscuit/authorizer.h"

namespace kb = kisee::biscuit;
using json = nlohmann::ordered_json;

namespace {

constexpr int kExitError = 1;

// Failure carries a message to print before exiting with status 1.
struct Failure {
  std::string message;
};

template <typename T>
T Check(kb::Result<T> r, std::string_view what) {
  if (!r) throw Failure{fmt::format("{}: {}", what, r.error().ToString())};
  return std::move(*r);
}
void Check(kb::Status s, std::string_view what) {
  if (!s) throw Failure{fmt::format("{}: {}", what, s.error().ToString())};
}

std::string ReadAll(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure{"file not found: " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// WriteOutput writes the bytes, or their base64url text; like the reference,
// with no newline after either.
void WriteOutput(kisee::ByteView bytes, bool raw) {
  if (raw) {
    std::cout.write(reinterpret_cast<const char*>(bytes.data()),
                    static_cast<std::streamsize>(bytes.size()));
  } else {
    std::cout << kb::EncodeBase64(bytes);
  }
  std::cout.flush();
}

kisee::Bytes ReadBinaryOrBase64(const std::string& path, bool raw, std::string_view what) {
  std::string content = ReadAll(path);
  if (raw) return kisee::ToBytes(content);
  return Check(kb::DecodeBase64(Trim(content)), what);
}

// ---- keys ----

const std::vector<std::string> kKeyFormats = {"raw", "hex", "pem"};
const std::vector<std::string> kAlgorithms = {"ed25519", "secp256r1"};

// KeyArgs is where a key comes from: a string, or a file (`-` for standard
// input), in the raw, hex (`ed25519/<hex>` ...) or PEM format; raw bytes need
// their algorithm.
struct KeyArgs {
  std::string text;
  std::string file;
  std::string format = "hex";
  std::string algorithm;
};

template <typename Key>
Key ParseKeyText(const std::string& text, bool pem, std::string_view what) {
  // PEM is recognised in the hex format too, a convenience over the reference.
  if (pem || text.find("-----BEGIN") != std::string::npos) {
    return Check(Key::FromPem(text), fmt::format("Failed to parse {}", what));
  }
  return Check(Key::FromString(Trim(text)), fmt::format("Failed to parse {}", what));
}

template <typename Key>
Key LoadKey(const KeyArgs& a, std::string_view what) {
  if (!a.algorithm.empty() && a.format != "raw") {
    throw Failure{
        fmt::format("The {} algorithm must only be set when reading raw binary input", what)};
  }
  if (!a.text.empty()) {
    if (a.format == "raw") throw Failure{"raw key input is only allowed from a file or stdin"};
    return ParseKeyText<Key>(a.text, a.format == "pem", what);
  }
  std::string content = ReadAll(a.file);
  if (a.format == "raw") {
    if (a.algorithm.empty()) {
      throw Failure{fmt::format("Raw {} binary input requires an explicit key algorithm", what)};
    }
    kb::Algorithm alg = Check(kb::ParseAlgorithm(a.algorithm), "key algorithm");
    return Check(Key::FromBytes(alg, kisee::AsBytes(content)),
                 fmt::format("Failed to parse {}", what));
  }
  return ParseKeyText<Key>(content, a.format == "pem", what);
}

// AddPrivateKeyArgs adds the reference's private key flags: exactly one of
// --private-key and --private-key-file.
void AddPrivateKeyArgs(CLI::App* cmd, KeyArgs& k) {
  auto* group = cmd->add_option_group("private key", "the key signing the block (one of)");
  group->add_option("--private-key", k.text, "The private key used to sign the block");
  auto* file = group->add_option("--private-key-file", k.file,
                                 "The private key used to sign the block, from a file");
  group->require_option(1);
  cmd->add_option("--private-key-format", k.format,
                  "Input format for the private key. raw is only available when reading the "
                  "private key from a file or stdin")
      ->check(CLI::IsMember(kKeyFormats))
      ->capture_default_str();
  cmd->add_option("--private-key-algorithm", k.algorithm,
                  "Specify the private key algorithm, only when reading the private key raw bytes")
      ->check(CLI::IsMember(kAlgorithms))
      ->needs(file);
}

// ---- datalog parameters ----

struct ParsedParams {
  kb::Params terms;
  kb::ScopeParams keys;
};

// DateValue parses an RFC 3339 date with the Datalog parser itself, so that
// parameters and TTLs follow the language's date rules.
std::optional<kb::Value> DateValue(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != ':' && c != '-' && c != '+' &&
        c != '.') {
      return std::nullopt;
    }
  }
  kb::AuthorizerBuilder a;
  if (!a.AddFact("d(" + std::string(text) + ")")) return std::nullopt;
  auto auth = a.BuildUnauthenticated();
  if (!auth) return std::nullopt;
  auto facts = auth->Query("x($d) <- d($d)");
  if (!facts || facts->size() != 1 || (*facts)[0].terms[0].kind() != kb::Value::Kind::kDate) {
    return std::nullopt;
  }
  return (*facts)[0].terms[0];
}

// AddParam parses `--param key[:type]=value` as the reference does: the type
// (after the last `:` of the key) defaults to string; bytes are `hex:...`,
// public keys `ed25519/...` or `secp256r1/...`, dates RFC 3339.
std::expected<void, std::string> AddParam(std::string_view raw, ParsedParams& out) {
  auto eq = raw.find('=');
  if (eq == std::string_view::npos) {
    return std::unexpected(
        "Params must be `key=value` or `key:type=value` where type is pubkey, string, integer, "
        "date, bytes or bool.");
  }
  std::string binding(raw.substr(0, eq));
  std::string value(raw.substr(eq + 1));
  std::string name = binding;
  std::optional<std::string> type;
  if (auto colon = binding.rfind(':'); colon != std::string::npos) {
    name = binding.substr(0, colon);
    type = binding.substr(colon + 1);
  }
  if (!type.has_value() || *type == "string") {
    out.terms[name] = kb::Value::String(value);
  } else if (*type == "integer") {
    std::string_view digits = value;
    if (digits.size() > 1 && digits[0] == '+') digits.remove_prefix(1);
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      return std::unexpected("invalid integer: " + value);
    }
    out.terms[name] = kb::Value::Integer(n);
  } else if (*type == "date") {
    auto date = DateValue(value);
    if (!date.has_value()) return std::unexpected("invalid RFC 3339 date: " + value);
    out.terms[name] = *date;
  } else if (*type == "bytes") {
    if (!value.starts_with("hex:")) {
      return std::unexpected(
          "Unsupported byte array literal. Byte arrays must be hex-encoded and start with "
          "`hex:`.");
    }
    auto bytes = kisee::HexDecode(std::string_view(value).substr(4));
    if (!bytes) return std::unexpected("invalid hex: " + value);
    out.terms[name] = kb::Value::Binary(*bytes);
  } else if (*type == "bool") {
    std::string lower = Lower(value);
    if (lower != "true" && lower != "false") {
      return std::unexpected("Boolean params must be either \"true\" or \"false\".");
    }
    out.terms[name] = kb::Value::Bool(lower == "true");
  } else if (*type == "pubkey") {
    auto key = kb::PublicKey::FromString(value);
    if (!key) return std::unexpected(key.error().ToString());
    out.keys.insert_or_assign(name, *key);
  } else {
    return std::unexpected(
        "Unsupported parameter type. Supported types are `pubkey`, `string`, `integer`, `date`, "
        "`bytes`, or `bool`.");
  }
  return {};
}

ParsedParams ParseParams(const std::vector<std::string>& raw) {
  ParsedParams out;
  for (const std::string& p : raw) {
    if (auto r = AddParam(p, out); !r) throw Failure{"invalid --param " + p + ": " + r.error()};
  }
  return out;
}

CLI::Validator ParamValidator() {
  return CLI::Validator(
      [](std::string& s) {
        ParsedParams scratch;
        auto r = AddParam(s, scratch);
        return r ? std::string() : r.error();
      },
      "key[:type]=value");
}

void AddParamArg(CLI::App* cmd, std::vector<std::string>& params) {
  cmd->add_option("--param", params,
                  "Provide a value for a datalog parameter. `type` is optional and defaults to "
                  "`string`. Possible types are pubkey, string, integer, date, bytes or bool. "
                  "Bytes values must be hex-encoded and start with `hex:`. Public keys must be "
                  "hex-encoded and start with `ed25519/` or `secp256r1/`. Dates must be RFC3339 "
                  "timestamps [examples: name=john, age:integer=42, is_happy:bool=true]")
      ->check(ParamValidator())
      ->allow_extra_args(false);  // one value per --param, as clap's Vec options
}

// Keeps only the parameters a piece of Datalog mentions: the reference
// tolerates unused parameters, our parser does not.
ParsedParams Used(const ParsedParams& all, const std::string& code) {
  ParsedParams out;
  for (const auto& [k, v] : all.terms) {
    if (code.find("{" + k + "}") != std::string::npos) out.terms.emplace(k, v);
  }
  for (const auto& [k, v] : all.keys) {
    if (code.find("{" + k + "}") != std::string::npos) out.keys.emplace(k, v);
  }
  return out;
}

// ---- durations and TTLs ----

// DurationUnit maps a unit word to nanoseconds, with the prefixes the
// reference's duration parser (parse_duration) accepts: "ms", "msec", "s",
// "sec", "m", "min", "h", "hr", "d", "w", "M", "mo", "y", ...
std::optional<long double> DurationUnit(std::string_view unit) {
  std::string u = Lower(std::string(unit));
  auto prefix_of = [&](std::string_view word) { return word.starts_with(u); };
  if (u.starts_with('n') && (prefix_of("nanoseconds") || prefix_of("nsecs"))) return 1.0L;
  if ((u.starts_with("mic") && prefix_of("microseconds")) ||
      (u.starts_with('u') && prefix_of("usecs")) ||
      (u.starts_with("\xce\xbc") && std::string_view("\xce\xbcsecs").starts_with(u))) {
    return 1e3L;
  }
  if ((u.starts_with("mil") && prefix_of("milliseconds")) ||
      (u.starts_with("ms") && prefix_of("msecs"))) {
    return 1e6L;
  }
  if (u.starts_with('s') && (prefix_of("seconds") || prefix_of("secs"))) return 1e9L;
  if ((u.starts_with("min") || unit.starts_with('m')) &&
      (prefix_of("minutes") || prefix_of("mins"))) {
    return 60e9L;
  }
  if (u.starts_with('h') && (prefix_of("hours") || prefix_of("hrs"))) return 3600e9L;
  if (u.starts_with('d') && prefix_of("days")) return 86400e9L;
  if (u.starts_with('w') && prefix_of("weeks")) return 604800e9L;
  if ((u.starts_with("mo") || unit.starts_with('M')) && prefix_of("months")) return 2629746e9L;
  if (u.starts_with('y') && (prefix_of("years") || prefix_of("yrs"))) return 31556952e9L;
  return std::nullopt;
}

bool IsWordByte(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// ParseDuration reads "100ms", "1s", "15m", "1h30m", "2 days" ...; a bare
// number is seconds, as in the reference.
std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  std::size_t i = 0;
  auto skip_junk = [&] {
    while (i < text.size() && !IsWordByte(text[i]) && text[i] != '-') ++i;
  };
  auto digits = [&] {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    return text.substr(start, i - start);
  };
  // A bare number: seconds.
  skip_junk();
  {
    std::size_t save = i;
    bool negative = i < text.size() && text[i] == '-';
    if (negative) ++i;
    std::string_view n = digits();
    std::size_t after = i;
    skip_junk();
    if (!n.empty() && i == text.size() && (after == text.size() || !IsWordByte(text[after]))) {
      if (negative) return std::nullopt;
      std::uint64_t secs = 0;
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), secs);
      if (ec != std::errc() || secs > 9'000'000'000ULL) return std::nullopt;
      return std::chrono::seconds(secs);
    }
    i = save;
  }
  long double total = 0;
  bool any = false;
  while (i < text.size()) {
    // Find the next number.
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) &&
           !(text[i] == '-' && i + 1 < text.size() &&
             std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      ++i;
    }
    if (i == text.size()) break;
    bool negative = text[i] == '-';
    if (negative) ++i;
    std::string number(digits());
    if (i < text.size() && text[i] == '.') {
      ++i;
      number += "." + std::string(digits());
    }
    if (i + 1 < text.size() && (text[i] == 'e' || text[i] == 'E')) {
      std::size_t save = i++;
      std::string exp;
      if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp += text[i++];
      std::string_view d = digits();
      if (d.empty()) {
        i = save;
      } else {
        number += "e" + exp + std::string(d);
      }
    }
    while (i < text.size() && !IsWordByte(text[i])) ++i;
    std::size_t unit_start = i;
    while (i < text.size() && IsWordByte(text[i]) &&
           !std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    if (i == unit_start) return std::nullopt;  // a value without a unit
    auto scale = DurationUnit(text.substr(unit_start, i - unit_start));
    if (!scale.has_value() || negative) return std::nullopt;
    total += std::strtold(number.c_str(), nullptr) * *scale;
    any = true;
  }
  if (!any || !std::isfinite(static_cast<double>(total)) || total > 9.0e18L) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(total));
}

CLI::Validator DurationValidator() {
  return CLI::Validator(
      [](std::string& s) {
        return ParseDuration(s).has_value() ? std::string() : "invalid duration: " + s;
      },
      "DURATION");
}

CLI::Validator TtlValidator() {
  return CLI::Validator(
      [](std::string& s) {
        return DateValue(s).has_value() || ParseDuration(s).has_value()
                   ? std::string()
                   : "expected an RFC 3339 date or a duration: " + s;
      },
      "TTL");
}

// AddTtlCheck adds the reference's expiration check (`check_expiration_date`)
// to a block or authority builder: an RFC 3339 date, or now plus a duration.
template <typename Builder>
void AddTtlCheck(Builder& block, const std::string& ttl) {
  std::optional<kb::Value> date = DateValue(ttl);
  if (!date.has_value()) {
    auto d = ParseDuration(ttl);
    if (!d.has_value()) throw Failure{"invalid --add-ttl " + ttl};
    auto when = std::chrono::system_clock::now() + *d;
    date = kb::Value::Date(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count()));
  }
  Check(block.AddCode("check if time($time), $time <= {expiration};", {{"expiration", *date}}),
        "ttl");
}

// ---- Datalog input ----

bool IsTerminal() { return isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1; }

// ReadFromEditor opens $EDITOR (vim by default) on a temporary file, as the
// reference does when no Datalog is given; it needs a terminal.
std::string ReadFromEditor() {
  if (!IsTerminal()) throw Failure{"Can't start an editor outside of an interactive terminal"};
  std::string path =
      (std::filesystem::temp_directory_path() / "biscuitXXXXXX.biscuit-datalog").string();
  int fd = mkstemps(path.data(), static_cast<int>(std::string_view(".biscuit-datalog").size()));
  if (fd < 0) throw Failure{"cannot create a temporary file"};
  close(fd);
  const char* env = std::getenv("EDITOR");
  std::string editor = env != nullptr ? env : "vim";
  if (Trim(editor).empty()) {
    std::filesystem::remove(path);
    throw Failure{"Failed to parse EDITOR environment variable"};
  }
  // The shell splits $EDITOR into words, as the reference's shell_words does.
  int rc = std::system((editor + " '" + path + "'").c_str());
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::filesystem::remove(path);
  if (rc != 0 || !in) throw Failure{"Failed reading the datalog temporary file"};
  return ss.str();
}

const char kStdinEditorConflict[] =
    "I cannot read input from both stdin and an interactive editor. Please use proper files or "
    "flags instead.";
const char kMultipleStdinsConflict[] =
    "I cannot read several pieces of input from stdin at the same time. Please use proper files "
    "or flags instead.";

// BlockArgs: --block, --block-file, or the editor; --context and --add-ttl.
struct BlockArgs {
  std::string block;
  std::string block_file;
  std::string context;
  std::string ttl;
};

void AddBlockArgs(CLI::App* cmd, BlockArgs& b) {
  auto* block = cmd->add_option("--block", b.block,
                                "The block to append to the token. If `--block` and "
                                "`--block-file` are omitted, an interactive $EDITOR will be "
                                "opened.");
  cmd->add_option("--block-file", b.block_file,
                  "The block to append to the token, from a file. If `--block` and `--block-file` "
                  "are omitted, an interactive $EDITOR will be opened.")
      ->excludes(block);
  cmd->add_option("--context", b.context, "The optional context string attached to the new block");
  cmd->add_option("--add-ttl", b.ttl,
                  "Add a TTL check to the generated block. You can either provide an expiration "
                  "timestamp or a duration [examples: 2025-04-01T00:00:00Z, 1d, 15m]")
      ->check(TtlValidator());
}

// ReadBlockCode reads the block's Datalog; `input_path` is the token or
// request file, which must not compete with the block for standard input.
std::string ReadBlockCode(const BlockArgs& b, const std::string& input_path) {
  if (!b.block_file.empty()) {
    if (b.block_file == "-" && input_path == "-") throw Failure{kMultipleStdinsConflict};
    return ReadAll(b.block_file);
  }
  if (!b.block.empty()) return b.block;
  if (input_path == "-") throw Failure{kStdinEditorConflict};
  return ReadFromEditor();
}

kb::BlockBuilder MakeBlock(const std::string& code, const ParsedParams& params,
                           const BlockArgs& b) {
  kb::BlockBuilder block;
  ParsedParams used = Used(params, code);
  Check(block.AddCode(code, used.terms, used.keys), "Failed to parse datalog statements");
  if (!b.ttl.empty()) AddTtlCheck(block, b.ttl);
  if (!b.context.empty()) block.SetContext(b.context);
  return block;
}

// PrintError writes the one line of an error on standard error.
int PrintError(std::string message) {
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::cerr << "Error: " << message << "\n";
  return kExitError;
}

// ---- inspect ----

std::string VersionString(std::uint32_t v) {
  switch (v) {
    case 3:
      return "v3.0";
    case 4:
      return "v3.1";
    case 5:
      return "v3.2";
    case 6:
      return "v3.3";
    default:
      return "(unsupported version)";
  }
}

json FailedChecksJson(const std::vector<kb::FailedCheck>& checks) {
  json out = json::array();
  for (const auto& c : checks) {
    if (c.block_id.has_value()) {
      out.push_back(
          {{"Block", {{"block_id", *c.block_id}, {"check_id", c.check_id}, {"rule", c.rule}}}});
    } else {
      out.push_back({{"Authorizer", {{"check_id", c.check_id}, {"rule", c.rule}}}});
    }
  }
  return out;
}

// ErrorJson writes an error in the reference's serialized form (the shape
// of samples.json's results): {"FailedLogic": {"Unauthorized": ...}},
// {"RunLimit": "TooManyFacts"}, {"Execution": "Overflow"} ...
json ErrorJson(const kb::Error& e) {
  std::string kind(kb::ErrorKindName(e.kind()));
  switch (e.category()) {
    case kb::ErrorCategory::kLogic:
      if (e.kind() == kb::ErrorKind::kUnauthorized && e.policy().has_value()) {
        json policy = {{e.policy()->allow ? "Allow" : "Deny", e.policy()->index}};
        return {{"FailedLogic",
                 {{"Unauthorized",
                   {{"policy", policy}, {"checks", FailedChecksJson(e.failed_checks())}}}}}};
      }
      if (e.kind() == kb::ErrorKind::kNoMatchingPolicy) {
        return {{"FailedLogic",
                 {{"NoMatchingPolicy", {{"checks", FailedChecksJson(e.failed_checks())}}}}}};
      }
      if (e.kind() == kb::ErrorKind::kInvalidBlockRule) {
        return {{"FailedLogic", {{"InvalidBlockRule", {e.block_rule_id(), e.message()}}}}};
      }
      return {{"FailedLogic", kind}};
    case kb::ErrorCategory::kRunLimit:
      return {{"RunLimit", kind}};
    case kb::ErrorCategory::kExecution:
      if (e.kind() == kb::ErrorKind::kUndefinedExtern ||
          e.kind() == kb::ErrorKind::kExternEvalError) {
        return {{"Execution", {{kind, e.message()}}}};
      }
      return {{"Execution", kind}};
    case kb::ErrorCategory::kFormat:
      return {{"Format", {{kind, e.message()}}}};
    case kb::ErrorCategory::kLanguage:
      return {{"Language", {{kind, e.message()}}}};
    default:
      return {{kind, e.message()}};
  }
}

std::string RunLimitText(kb::ErrorKind kind) {
  switch (kind) {
    case kb::ErrorKind::kTooManyFacts:
      return "too many facts generated";
    case kb::ErrorKind::kTooManyIterations:
      return "too many engine iterations";
    case kb::ErrorKind::kTimeout:
      return "spent too much time verifying";
    default:
      return std::string(kb::ErrorKindName(kind));
  }
}

std::string FailedChecksText(const std::vector<kb::FailedCheck>& checks) {
  std::string out;
  if (!checks.empty()) out += "The following checks failed:\n";
  for (const auto& c : checks) {
    if (!c.block_id.has_value()) {
      out += "  Authorizer check: " + c.rule + "\n";
    } else if (*c.block_id == 0) {
      out += "  Authority block check: " + c.rule + "\n";
    } else {
      out += fmt::format("  Block {} check: {}\n", *c.block_id, c.rule);
    }
  }
  return out;
}

// CanonicalRule prints a query rule the way the reference does (its parsed
// form), or the text as given when it needs parameters.
std::string CanonicalRule(const std::string& text) {
  kb::BlockBuilder b;
  if (!b.AddRule(text)) return Trim(text);
  std::string printed = Trim(b.ToString());
  if (printed.ends_with(";")) printed.pop_back();
  return printed;
}

struct AuthOutcome {
  std::vector<std::string> policies;
  kb::Result<std::size_t> result = 0;
  std::uint64_t iterations = 0;
  std::uint64_t elapsed_micros = 0;
};

struct QueryOutcome {
  std::string query;
  bool query_all = false;
  kb::Result<std::vector<kb::QueryFact>> facts = std::vector<kb::QueryFact>{};
  std::uint64_t elapsed_micros = 0;
};

struct InspectArgs {
  std::string file;
  bool raw_input = false;
  bool json = false;
  KeyArgs key;
  std::string authorize_with;
  std::string authorize_with_file;
  bool authorize_interactive = false;
  bool include_time = false;
  std::string query;
  bool query_all = false;
  std::optional<std::uint64_t> max_facts;
  std::optional<std::uint64_t> max_iterations;
  std::string max_time;
  std::vector<std::string> params;
};

QueryOutcome RunQuery(kb::Authorizer& authorizer, const InspectArgs& a,
                      const ParsedParams& params) {
  QueryOutcome q;
  q.query = CanonicalRule(a.query);
  q.query_all = a.query_all;
  ParsedParams used = Used(params, a.query);
  q.facts = a.query_all ? authorizer.QueryAll(a.query, used.terms, used.keys)
                        : authorizer.Query(a.query, used.terms, used.keys);
  q.elapsed_micros = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(authorizer.execution_time()).count());
  return q;
}

int Inspect(const InspectArgs& a) {
  std::optional<std::string> auth_code;
  if (!a.authorize_with.empty()) auth_code = a.authorize_with;
  if (!a.authorize_with_file.empty()) auth_code = ReadAll(a.authorize_with_file);
  if (a.authorize_interactive) {
    if (a.file == "-") throw Failure{kStdinEditorConflict};
    auth_code = ReadFromEditor();
  }
  const bool has_key = !a.key.text.empty() || !a.key.file.empty();
  if (!a.query.empty() && !has_key) {
    throw Failure{"A public key is required when querying a biscuit"};
  }

  auto token =
      Check(kb::UnverifiedBiscuit::FromBytes(ReadBinaryOrBase64(a.file, a.raw_input, "biscuit")),
            "biscuit");
  auto ids = token.RevocationIds();
  json description = {
      {"sealed", token.sealed()},
      {"root_key_id", token.root_key_id().has_value() ? json(*token.root_key_id()) : json(nullptr)},
      {"blocks", json::array()}};
  std::string text = token.sealed() ? "Sealed biscuit\n" : "Open biscuit\n";
  for (std::size_t i = 0; i < token.block_count(); ++i) {
    std::string code = Check(token.BlockSource(i), "block");
    auto ext = token.BlockExternalKey(i);
    std::string id = i < ids.size() ? kisee::HexEncode(ids[i]) : "n/a";
    description["blocks"].push_back(
        {{"version", token.BlockVersion(i)},
         {"code", code},
         {"external_key", ext.has_value() ? json(ext->ToString()) : json(nullptr)},
         {"revocation_id", id}});
    if (i == 0) {
      text +=
          token.root_key_id().has_value()
              ? fmt::format("Authority block (root key identifier: {}):\n", *token.root_key_id())
              : "Authority block:\n";
    } else if (ext.has_value()) {
      text += fmt::format("Block n\u00b0{}, (third party, signed by {}):\n", i, ext->ToString());
    } else {
      text += fmt::format("Block n\u00b0{}:\n", i);
    }
    text += "== Datalog " + VersionString(token.BlockVersion(i)) + " ==\n" + code + "\n";
    text += "== Revocation id ==\n" + id + "\n\n==========\n\n";
  }

  std::optional<bool> signatures;
  std::optional<AuthOutcome> auth;
  std::optional<QueryOutcome> query;
  if (has_key) {
    kb::PublicKey key = LoadKey<kb::PublicKey>(a.key, "public key");
    auto verified = token.Verify(key);
    signatures = verified.has_value();
    if (verified) {
      ParsedParams params = ParseParams(a.params);
      kb::RunLimits limits;
      if (a.max_facts.has_value()) limits.max_facts = *a.max_facts;
      if (a.max_iterations.has_value()) limits.max_iterations = *a.max_iterations;
      if (!a.max_time.empty()) limits.max_time = *ParseDuration(a.max_time);
      kb::AuthorizerBuilder builder;
      builder.SetLimits(limits);
      if (auth_code.has_value()) {
        ParsedParams used = Used(params, *auth_code);
        Check(builder.AddCode(*auth_code, used.terms, used.keys),
              "Failed to parse datalog statements");
        if (a.include_time) builder.AddTime();
      }
      auto authorizer = Check(builder.Build(*verified), "authorizer");
      if (auth_code.has_value()) {
        AuthOutcome o;
        o.result = authorizer.Authorize();
        o.policies = authorizer.World().policies;
        o.iterations = authorizer.iterations();
        o.elapsed_micros = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(authorizer.execution_time())
                .count());
        auth = std::move(o);
      }
      if (!a.query.empty()) query = RunQuery(authorizer, a, params);
    }
  } else if (auth_code.has_value()) {
    throw Failure{"A public key is required when authorizing a biscuit"};
  }

  auto policy_text = [&](std::size_t i) {
    return i < auth->policies.size() ? auth->policies[i] : std::string("?");
  };
  if (a.json) {
    json out = {{"token", description},
                {"signatures_check", signatures.has_value() ? json(*signatures) : json(nullptr)},
                {"auth", nullptr},
                {"query", nullptr}};
    if (auth.has_value()) {
      json result = auth->result ? json::array({*auth->result, policy_text(*auth->result)})
                                 : json({{"error", ErrorJson(auth->result.error())}});
      out["auth"] = {{"policies", auth->policies},
                     {"result", result},
                     {"iterations", auth->iterations},
                     {"elapsed_micros", auth->elapsed_micros}};
    }
    if (query.has_value()) {
      json facts = json::array();
      if (query->facts) {
        for (const auto& f : *query->facts) facts.push_back(f.text);
      } else {
        facts = {{"error", ErrorJson(query->facts.error())}};
      }
      out["query"] = {{"query", query->query},
                      {"query_all", query->query_all},
                      {"facts", facts},
                      {"elapsed_micros", query->elapsed_micros}};
    }
    std::cout << out.dump() << "\n";
  } else {
    if (!signatures.has_value()) {
      text += "\U0001f648 Public key check skipped \U0001f511\n";
    } else if (*signatures) {
      text += "\u2705 Public key check succeeded \U0001f511\n";
    } else {
      text += "\u274c Public key check failed \U0001f511\n";
    }
    if (!auth.has_value()) {
      text += "\U0001f648 Datalog check skipped \U0001f6e1\ufe0f\n";
    } else if (auth->result) {
      text += fmt::format(
          "\u2705 Authorizer check succeeded \U0001f6e1\ufe0f ({}\u03bcs, {} iterations)\n",
          auth->elapsed_micros, auth->iterations);
      text += "Matched allow policy: " + policy_text(*auth->result) + "\n";
    } else {
      const kb::Error& e = auth->result.error();
      text += fmt::format(
          "\u274c Authorizer check failed \U0001f6e1\ufe0f ({}\u03bcs, {} iterations)\n",
          auth->elapsed_micros, auth->iterations);
      if (e.kind() == kb::ErrorKind::kUnauthorized && e.policy().has_value()) {
        text += fmt::format("{} policy matched: {}\n", e.policy()->allow ? "An allow" : "A deny",
                            policy_text(e.policy()->index));
        text += FailedChecksText(e.failed_checks());
      } else if (e.kind() == kb::ErrorKind::kNoMatchingPolicy) {
        text += "No policy matched\n" + FailedChecksText(e.failed_checks());
      } else if (e.category() == kb::ErrorCategory::kLogic) {
        text += "An execution error happened during authorization: " + e.ToString() + "\n";
      } else if (e.category() == kb::ErrorCategory::kRunLimit) {
        text += "The authorizer execution was aborted: " + RunLimitText(e.kind()) + "\n";
      }
    }
    if (query.has_value()) {
      text +=
          fmt::format("\n\U0001f50e Running query{}: {} ({}\u03bcs)\n",
                      query->query_all ? " on all facts" : "", query->query, query->elapsed_micros);
      if (!query->facts) {
        text += "\u274c Query failed\n";
      } else if (query->facts->empty()) {
        text += "\u274c No results\n";
      } else {
        for (const auto& f : *query->facts) text += f.text + "\n";
      }
    }
    std::cout << text << "\n";
  }
  std::cout.flush();
  if (signatures == false) return PrintError("Signatures check failed");
  if (auth.has_value() && !auth->result) {
    return PrintError("Authorization failed: " + auth->result.error().ToString());
  }
  if (query.has_value() && !query->facts) {
    return PrintError("Querying failed: " + query->facts.error().ToString());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "biscuit manipulation program. It lets you create, attenuate, inspect biscuits and manage "
      "keypairs."};
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", "biscuit (kisee) 0.1.0");

  // keypair
  auto* keypair = app.add_subcommand("keypair", "Create and manipulate key pairs");
  KeyArgs kp_from;
  std::string kp_algorithm = "ed25519";
  std::string kp_output_format = "hex";
  bool only_private = false;
  bool only_public = false;
  auto* kp_from_text = keypair->add_option(
      "--from-private-key", kp_from.text,
      "Generate the keypair from the given private key. If omitted, a random keypair will be "
      "generated");
  auto* kp_from_file =
      keypair
          ->add_option("--from-file", kp_from.file,
                       "Generate the keypair from a private key stored in the given file (or use "
                       "`-` to read it from stdin). If omitted, a random keypair will be generated")
          ->excludes(kp_from_text);
  keypair->add_option("--from-format", kp_from.format, "Input format for the private key")
      ->check(CLI::IsMember(kKeyFormats))
      ->capture_default_str();
  keypair
      ->add_option("--from-algorithm", kp_from.algorithm,
                   "Specify the private key algorithm, only when reading the private key raw "
                   "bytes")
      ->check(CLI::IsMember(kAlgorithms))
      ->needs(kp_from_file);
  keypair
      ->add_option("--key-algorithm", kp_algorithm, "Key algorithm used when generating a keypair")
      ->check(CLI::IsMember(kAlgorithms))
      ->capture_default_str()
      ->excludes(kp_from_text)
      ->excludes(kp_from_file);
  keypair
      ->add_option("--key-output-format", kp_output_format, "Public and private key output format")
      ->check(CLI::IsMember(kKeyFormats))
      ->capture_default_str();
  auto* only_public_flag =
      keypair->add_flag("--only-public-key", only_public, "Only output the public key");
  keypair->add_flag("--only-private-key", only_private, "Only output the private key")
      ->excludes(only_public_flag);

  // generate
  auto* generate = app.add_subcommand(
      "generate", "Generate a biscuit from a private key and an authority block");
  KeyArgs gen_key;
  std::string gen_file;
  std::string gen_context;
  std::string gen_ttl;
  std::uint32_t gen_root_key_id = 0;
  bool gen_raw = false;
  std::vector<std::string> gen_params;
  generate->add_option("DATALOG_FILE", gen_file,
                       "Read the authority block from the given datalog file (or use `-` to read "
                       "from stdin). If omitted, an interactive $EDITOR will be opened.");
  auto* root_id_opt = generate->add_option("--root-key-id", gen_root_key_id,
                                           "Provide a root key id, as a hint for public key "
                                           "selection");
  AddParamArg(generate, gen_params);
  generate->add_flag("--raw", gen_raw,
                     "Output the biscuit raw bytes directly, with no base64 encoding");
  AddPrivateKeyArgs(generate, gen_key);
  generate->add_option("--context", gen_context,
                       "The optional context string attached to the authority block");
  generate
      ->add_option("--add-ttl", gen_ttl,
                   "Add a TTL check to the generated block. You can either provide an "
                   "expiration timestamp or a duration [examples: 2025-04-01T00:00:00Z, 1d, 15m]")
      ->check(TtlValidator());

  // attenuate
  auto* attenuate =
      app.add_subcommand("attenuate", "Attenuate an existing biscuit by adding a new block");
  std::string att_file;
  bool att_raw_in = false;
  bool att_raw_out = false;
  BlockArgs att_block;
  std::vector<std::string> att_params;
  attenuate
      ->add_option("BISCUIT_FILE", att_file,
                   "Read the biscuit from the given file (or use `-` to read from stdin)")
      ->required();
  attenuate->add_flag("--raw-input", att_raw_in,
                      "Read the biscuit raw bytes directly, with no base64 parsing");
  attenuate->add_flag("--raw-output", att_raw_out,
                      "Output the biscuit raw bytes directly, with no base64 encoding");
  AddBlockArgs(attenuate, att_block);
  AddParamArg(attenuate, att_params);

  // inspect
  auto* inspect = app.add_subcommand(
      "inspect", "Inspect a biscuit, optionally check its public key and run authorization.");
  InspectArgs ins;
  inspect->add_flag("--json", ins.json, "Output the results in a machine-readable format");
  inspect
      ->add_option("BISCUIT_FILE", ins.file,
                   "Read the biscuit from the given file (or use `-` to read from stdin)")
      ->required();
  inspect->add_flag("--raw-input", ins.raw_input,
                    "Read the biscuit raw bytes directly, with no base64 parsing");
  auto* pk_text = inspect->add_option("--public-key", ins.key.text, "Check the biscuit public key");
  auto* pk_file = inspect
                      ->add_option("--public-key-file", ins.key.file,
                                   "Check the biscuit public key, read from a file")
                      ->excludes(pk_text);
  inspect
      ->add_option("--public-key-format", ins.key.format,
                   "Input format for the public key. raw is only available when reading the "
                   "public key from a file")
      ->check(CLI::IsMember(kKeyFormats))
      ->capture_default_str();
  inspect
      ->add_option("--public-key-algorithm", ins.key.algorithm,
                   "Specify the public key algorithm, only when reading the public key raw bytes")
      ->check(CLI::IsMember(kAlgorithms))
      ->needs(pk_file);
  std::uint64_t max_facts = 0;
  std::uint64_t max_iterations = 0;
  auto* max_facts_opt = inspect->add_option(
      "--max-facts", max_facts,
      "Configure the maximum amount of facts that can be generated before aborting evaluation");
  auto* max_iterations_opt =
      inspect->add_option("--max-iterations", max_iterations,
                          "Configure the maximum amount of iterations before aborting evaluation");
  inspect
      ->add_option("--max-time", ins.max_time,
                   "Configure the maximum evaluation duration before aborting [examples: 100ms, "
                   "1s]")
      ->check(DurationValidator());
  auto* interactive =
      inspect->add_flag("--authorize-interactive,--verify-interactive", ins.authorize_interactive,
                        "Open $EDITOR to provide an authorizer.");
  auto* with_file =
      inspect->add_option("--authorize-with-file,--verify-with-file", ins.authorize_with_file,
                          "Authorize the biscuit with the provided authorizer.");
  auto* with = inspect->add_option("--authorize-with,--verify-with", ins.authorize_with,
                                   "Authorize the biscuit with the provided authorizer");
  interactive->excludes(with_file)->excludes(with);
  with_file->excludes(with);
  inspect->add_flag("--include-time", ins.include_time,
                    "Include the current time in the verifier facts");
  auto* query_opt = inspect->add_option(
      "--query", ins.query,
      "Query the authorizer after evaluation. If no authorizer is provided, query the token after "
      "evaluation.");
  inspect
      ->add_flag("--query-all", ins.query_all,
                 "Query facts from all blocks (not just authority, authorizer or explicitly "
                 "trusted blocks). Be careful, this can return untrustworthy facts.")
      ->needs(query_opt);
  AddParamArg(inspect, ins.params);

  // generate-third-party-block-request
  auto* request =
      app.add_subcommand("generate-third-party-block-request",
                         "Generate a third-party block request from an existing biscuit");
  std::string req_file;
  bool req_raw_in = false;
  bool req_raw_out = false;
  request
      ->add_option("BISCUIT_FILE", req_file,
                   "Read the biscuit from the given file (or use `-` to read from stdin)")
      ->required();
  request->add_flag("--raw-input", req_raw_in,
                    "Read the biscuit raw bytes directly, with no base64 parsing");
  request->add_flag("--raw-output", req_raw_out,
                    "Output the request raw bytes directly, with no base64 encoding");

  // generate-third-party-block
  auto* tp_block =
      app.add_subcommand("generate-third-party-block",
                         "Generate a third-party block from a third-party block request");
  std::string tpb_file;
  bool tpb_raw_in = false;
  bool tpb_raw_out = false;
  KeyArgs tpb_key;
  BlockArgs tpb_block;
  std::vector<std::string> tpb_params;
  tp_block
      ->add_option("REQUEST_FILE", tpb_file,
                   "Read the request from the given file (or use `-` to read from stdin)")
      ->required();
  tp_block->add_flag("--raw-input", tpb_raw_in,
                     "Read the request raw bytes directly, with no base64 parsing");
  AddPrivateKeyArgs(tp_block, tpb_key);
  tp_block->add_flag("--raw-output", tpb_raw_out,
                     "Output the block raw bytes directly, with no base64 encoding");
  AddBlockArgs(tp_block, tpb_block);
  AddParamArg(tp_block, tpb_params);

  // append-third-party-block
  auto* append_tp =
      app.add_subcommand("append-third-party-block", "Append a third-party block to a biscuit");
  std::string atp_file;
  bool atp_raw_in = false;
  bool atp_raw_out = false;
  std::string atp_contents;
  std::string atp_contents_file;
  bool atp_raw_contents = false;
  append_tp
      ->add_option("BISCUIT_FILE", atp_file,
                   "Read the biscuit from the given file (or use `-` to read from stdin)")
      ->required();
  append_tp->add_flag("--raw-input", atp_raw_in,
                      "Read the biscuit raw bytes directly, with no base64 parsing");
  append_tp->add_flag("--raw-output", atp_raw_out,
                      "Output the biscuit raw bytes directly, with no base64 encoding");
  auto* contents_group =
      append_tp->add_option_group("block contents", "the third-party block (one of)");
  contents_group->add_option("--block-contents", atp_contents,
                             "The third-party block to append to the token.");
  auto* contents_file = contents_group->add_option(
      "--block-contents-file", atp_contents_file,
      "The third-party block to append to the token, from a file (or `-` for stdin)");
  contents_group->require_option(1);
  append_tp
      ->add_flag("--raw-block-contents", atp_raw_contents,
                 "Read the third-party block contents raw bytes directly, with no base64 parsing")
      ->needs(contents_file);

  // seal
  auto* seal = app.add_subcommand("seal", "Seal a token, preventing further attenuation");
  std::string seal_file;
  bool seal_raw_in = false;
  bool seal_raw_out = false;
  seal->add_option("BISCUIT_FILE", seal_file,
                   "Read the biscuit from the given file (or use `-` to read from stdin)")
      ->required();
  seal->add_flag("--raw-input", seal_raw_in,
                 "Read the biscuit raw bytes directly, with no base64 parsing");
  seal->add_flag("--raw-output", seal_raw_out,
                 "Output the biscuit raw bytes directly, with no base64 encoding");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return PrintError(fmt::format("{} (see --help)", e.what()));
  }

  try {
    if (keypair->parsed()) {
      const bool from_key = !kp_from.text.empty() || !kp_from.file.empty();
      if (!only_private && !only_public && kp_output_format == "raw") {
        throw Failure{"Only a single key can be returned in a binary format"};
      }
      kb::KeyPair pair =
          from_key ? kb::KeyPair(LoadKey<kb::PrivateKey>(kp_from, "private key"))
                   : kb::KeyPair::Generate(Check(kb::ParseAlgorithm(kp_algorithm), "algorithm"));
      const kb::PrivateKey& priv = pair.private_key();
      const kb::PublicKey& pub = pair.public_key();
      if (only_private) {
        if (kp_output_format == "raw") {
          WriteOutput(priv.bytes(), true);
        } else {
          std::cout << (kp_output_format == "pem" ? Check(priv.ToPem(), "pem") : priv.ToString())
                    << "\n";
        }
      } else if (only_public) {
        if (kp_output_format == "raw") {
          WriteOutput(pub.bytes(), true);
        } else {
          std::cout << (kp_output_format == "pem" ? Check(pub.ToPem(), "pem") : pub.ToString())
                    << "\n";
        }
      } else if (kp_output_format == "pem") {
        std::cout << (from_key ? "Generating a keypair for the provided private key\n"
                               : "Generating a new random keypair\n");
        std::cout << Check(priv.ToPem(), "pem") << Check(pub.ToPem(), "pem") << "\n";
      } else {
        std::cout << (from_key ? "Generating a keypair from the provided private key\n"
                               : "Generating a new random keypair\n");
        std::cout << "Private key: " << priv.ToString() << "\n";
        std::cout << "Public key: " << pub.ToString() << "\n";
      }
      return 0;
    }

    if (generate->parsed()) {
      kb::PrivateKey key = LoadKey<kb::PrivateKey>(gen_key, "private key");
      std::string code;
      if (gen_file.empty()) {
        code = ReadFromEditor();
      } else {
        code = ReadAll(gen_file);
        if (gen_file == "-") code = Trim(code);
      }
      ParsedParams params = ParseParams(gen_params);
      kb::BiscuitBuilder builder;
      ParsedParams used = Used(params, code);
      Check(builder.AddCode(code, used.terms, used.keys), "Failed to parse datalog statements");
      if (!gen_context.empty()) builder.SetContext(gen_context);
      if (!gen_ttl.empty()) AddTtlCheck(builder, gen_ttl);
      if (root_id_opt->count() > 0) builder.SetRootKeyId(gen_root_key_id);
      kb::Biscuit token = Check(builder.Build(kb::KeyPair(key)), "generate");
      WriteOutput(Check(token.ToBytes(), "serialize"), gen_raw);
      return 0;
    }

    if (attenuate->parsed()) {
      std::string code = ReadBlockCode(att_block, att_file);
      auto token = Check(
          kb::UnverifiedBiscuit::FromBytes(ReadBinaryOrBase64(att_file, att_raw_in, "biscuit")),
          "biscuit");
      kb::BlockBuilder block = MakeBlock(code, ParseParams(att_params), att_block);
      auto next = Check(token.Append(block), "attenuate");
      WriteOutput(Check(next.ToBytes(), "serialize"), att_raw_out);
      return 0;
    }

    if (seal->parsed()) {
      auto token = Check(
          kb::UnverifiedBiscuit::FromBytes(ReadBinaryOrBase64(seal_file, seal_raw_in, "biscuit")),
          "biscuit");
      WriteOutput(Check(Check(token.Seal(), "seal").ToBytes(), "serialize"), seal_raw_out);
      return 0;
    }

    if (request->parsed()) {
      auto token = Check(
          kb::UnverifiedBiscuit::FromBytes(ReadBinaryOrBase64(req_file, req_raw_in, "biscuit")),
          "biscuit");
      auto req = Check(token.CreateThirdPartyRequest(), "request");
      WriteOutput(Check(req.ToBytes(), "serialize"), req_raw_out);
      return 0;
    }

    if (tp_block->parsed()) {
      std::string code = ReadBlockCode(tpb_block, tpb_file);
      kb::PrivateKey key = LoadKey<kb::PrivateKey>(tpb_key, "private key");
      auto req = Check(
          kb::ThirdPartyRequest::FromBytes(ReadBinaryOrBase64(tpb_file, tpb_raw_in, "request")),
          "request");
      kb::BlockBuilder block = MakeBlock(code, ParseParams(tpb_params), tpb_block);
      auto contents = Check(req.CreateBlock(key, block), "third-party block");
      WriteOutput(Check(contents.ToBytes(), "serialize"), tpb_raw_out);
      return 0;
    }

    if (append_tp->parsed()) {
      if (atp_contents_file == "-" && atp_file == "-") throw Failure{kMultipleStdinsConflict};
      auto token = Check(
          kb::UnverifiedBiscuit::FromBytes(ReadBinaryOrBase64(atp_file, atp_raw_in, "biscuit")),
          "biscuit");
      kisee::Bytes contents =
          !atp_contents.empty()
              ? Check(kb::DecodeBase64(Trim(atp_contents)), "block contents")
              : ReadBinaryOrBase64(atp_contents_file, atp_raw_contents, "block contents");
      auto block = Check(kb::ThirdPartyBlock::FromBytes(contents), "block contents");
      auto next = Check(token.AppendThirdParty(block), "append");
      WriteOutput(Check(next.ToBytes(), "serialize"), atp_raw_out);
      return 0;
    }

    if (inspect->parsed()) {
      if (max_facts_opt->count() > 0) ins.max_facts = max_facts;
      if (max_iterations_opt->count() > 0) ins.max_iterations = max_iterations;
      try {
        return Inspect(ins);
      } catch (const Failure& f) {
        // As the reference: in JSON mode an error that stopped the inspection
        // is also printed as {"error": ...} on stdout.
        if (ins.json) std::cout << json({{"error", f.message}}).dump() << "\n";
        throw;
      }
    }
  } catch (const Failure& f) {
    return PrintError(f.message);
  } catch (const std::exception& e) {
    return PrintError(e.what());
  }
  return kExitError;
}
