// biscuit: the command line tool, mirroring the reference CLI (biscuit-cli):
// keypair, generate, attenuate, inspect, seal and the third-party block
// commands. Exit status 0 only when everything asked for succeeded (for
// inspect: signatures and authorization); 1 otherwise, with a one-line error.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kisee/biscuit/authorizer.h"

namespace kb = kisee::biscuit;

namespace {

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
  if (!in) throw Failure{"cannot read " + path};
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

void WriteOutput(kisee::ByteView bytes, bool raw) {
  if (raw) {
    std::cout.write(reinterpret_cast<const char*>(bytes.data()),
                    static_cast<std::streamsize>(bytes.size()));
  } else {
    std::cout << kb::EncodeBase64(bytes) << "\n";
  }
  std::cout.flush();
}

kisee::Bytes ReadBinaryOrBase64(const std::string& path, bool raw, std::string_view what) {
  std::string content = ReadAll(path);
  if (raw) return kisee::ToBytes(content);
  return Check(kb::DecodeBase64(Trim(content)), what);
}

// Key options shared by several commands.
struct KeyOptions {
  std::string key;
  std::string key_file;
  bool raw = false;
  std::string algorithm = "ed25519";
};

kb::PrivateKey LoadPrivateKey(const KeyOptions& o) {
  kb::Algorithm alg = Check(kb::ParseAlgorithm(o.algorithm), "key algorithm");
  if (!o.key.empty()) {
    std::string text = Trim(o.key);
    if (text.find('/') == std::string::npos) {
      auto bytes = kisee::HexDecode(text);
      if (!bytes) throw Failure{"invalid private key"};
      return Check(kb::PrivateKey::FromBytes(alg, *bytes), "private key");
    }
    return Check(kb::PrivateKey::FromString(text), "private key");
  }
  if (!o.key_file.empty()) {
    std::string content = ReadAll(o.key_file);
    if (o.raw) return Check(kb::PrivateKey::FromBytes(alg, kisee::AsBytes(content)), "private key");
    if (content.find("-----BEGIN") != std::string::npos) {
      return Check(kb::PrivateKey::FromPem(content), "private key");
    }
    std::string text = Trim(content);
    if (text.find('/') == std::string::npos) {
      auto bytes = kisee::HexDecode(text);
      if (!bytes) throw Failure{"invalid private key file"};
      return Check(kb::PrivateKey::FromBytes(alg, *bytes), "private key");
    }
    return Check(kb::PrivateKey::FromString(text), "private key");
  }
  throw Failure{"a private key is required (--private-key or --private-key-file)"};
}

std::optional<kb::PublicKey> LoadPublicKey(const KeyOptions& o) {
  kb::Algorithm alg = Check(kb::ParseAlgorithm(o.algorithm), "key algorithm");
  std::string text;
  if (!o.key.empty()) {
    text = Trim(o.key);
  } else if (!o.key_file.empty()) {
    std::string content = ReadAll(o.key_file);
    if (o.raw) return Check(kb::PublicKey::FromBytes(alg, kisee::AsBytes(content)), "public key");
    if (content.find("-----BEGIN") != std::string::npos) {
      return Check(kb::PublicKey::FromPem(content), "public key");
    }
    text = Trim(content);
  } else {
    return std::nullopt;
  }
  if (text.find('/') == std::string::npos) {
    auto bytes = kisee::HexDecode(text);
    if (!bytes) throw Failure{"invalid public key"};
    return Check(kb::PublicKey::FromBytes(alg, *bytes), "public key");
  }
  return Check(kb::PublicKey::FromString(text), "public key");
}

// --param name:type=value (types: string, integer, date, bytes, bool,
// pubkey), as in the reference CLI.
struct ParsedParams {
  kb::Params terms;
  kb::ScopeParams keys;
};

ParsedParams ParseParams(const std::vector<std::string>& raw) {
  ParsedParams out;
  for (const std::string& p : raw) {
    auto colon = p.find(':');
    auto eq = p.find('=', colon == std::string::npos ? 0 : colon);
    if (colon == std::string::npos || eq == std::string::npos) {
      throw Failure{"invalid --param " + p + " (expected name:type=value)"};
    }
    std::string name = p.substr(0, colon);
    std::string type = p.substr(colon + 1, eq - colon - 1);
    std::string value = p.substr(eq + 1);
    if (type == "string") {
      out.terms[name] = kb::Value::String(value);
    } else if (type == "integer") {
      try {
        out.terms[name] = kb::Value::Integer(std::stoll(value));
      } catch (...) {
        throw Failure{"invalid integer parameter " + name};
      }
    } else if (type == "bool") {
      if (value != "true" && value != "false") throw Failure{"invalid bool parameter " + name};
      out.terms[name] = kb::Value::Bool(value == "true");
    } else if (type == "bytes") {
      auto bytes = kisee::HexDecode(value.starts_with("hex:") ? value.substr(4) : value);
      if (!bytes) throw Failure{"invalid bytes parameter " + name};
      out.terms[name] = kb::Value::Binary(*bytes);
    } else if (type == "date") {
      // Dates are parsed by the Datalog parser itself for identical rules.
      kb::AuthorizerBuilder a;
      Check(a.AddFact("d(" + value + ")"), "date parameter " + name);
      auto auth = Check(a.BuildUnauthenticated(), "date parameter");
      auto facts = Check(auth.Query("x($d) <- d($d)"), "date parameter");
      if (facts.size() != 1 || facts[0].terms[0].kind() != kb::Value::Kind::kDate) {
        throw Failure{"invalid date parameter " + name};
      }
      out.terms[name] = facts[0].terms[0];
    } else if (type == "pubkey") {
      out.keys.emplace(name, Check(kb::PublicKey::FromString(value), "pubkey parameter " + name));
    } else {
      throw Failure{"unknown parameter type " + type};
    }
  }
  return out;
}

// Keeps only the parameters a piece of Datalog mentions, so one --param
// list can serve text that uses a subset of it.
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

std::string TtlCheck(const std::string& ttl) {
  // Either an RFC 3339 date or a duration in seconds with an optional unit.
  std::string date = ttl;
  if (!ttl.empty() && std::isdigit(static_cast<unsigned char>(ttl[0])) &&
      ttl.find('-') == std::string::npos) {
    std::size_t used = 0;
    long long n = 0;
    try {
      n = std::stoll(ttl, &used);
    } catch (...) {
      throw Failure{"invalid --add-ttl " + ttl};
    }
    std::string unit = ttl.substr(used);
    long long mult = unit.empty() || unit == "s" ? 1
                     : unit == "m"               ? 60
                     : unit == "h"               ? 3600
                     : unit == "d"               ? 86400
                                                 : -1;
    if (mult < 0) throw Failure{"invalid --add-ttl unit " + unit};
    auto when = std::chrono::system_clock::now() + std::chrono::seconds(n * mult);
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    date = buf;
  }
  return "check if time($time), $time <= " + date + ";";
}

kb::BlockBuilder MakeBlock(const std::string& code, const ParsedParams& params,
                           const std::string& context, const std::string& ttl) {
  kb::BlockBuilder block;
  ParsedParams used = Used(params, code);
  Check(block.AddCode(code, used.terms, used.keys), "datalog");
  if (!ttl.empty()) Check(block.AddCode(TtlCheck(ttl)), "ttl");
  if (!context.empty()) block.SetContext(context);
  return block;
}

std::string BlockCode(const std::string& inline_code, const std::string& file) {
  if (!inline_code.empty() && !file.empty()) throw Failure{"--block and --block-file conflict"};
  if (!file.empty()) return ReadAll(file);
  return inline_code;
}

void AddKeyFlags(CLI::App* cmd, KeyOptions& o, const std::string& prefix, bool is_public) {
  std::string what = is_public ? "public" : "private";
  cmd->add_option("--" + prefix, o.key,
                  "the " + what + " key (" +
                      (is_public ? "ed25519/<hex>" : "ed25519-private/<hex>") +
                      ", secp256r1 variants, or bare hex)");
  cmd->add_option(
      "--" + prefix + "-file", o.key_file,
      "read the " + what + " key from a file (text, PEM, or raw with --raw-" + prefix + ")");
  cmd->add_flag("--raw-" + prefix, o.raw, "the key file holds raw bytes");
  cmd->add_option("--key-algorithm", o.algorithm, "algorithm of bare hex or raw keys")
      ->check(CLI::IsMember({"ed25519", "secp256r1"}));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"biscuit: create, attenuate and inspect Biscuit authorization tokens"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "biscuit (kisee) 0.1.0");

  // keypair
  auto* keypair = app.add_subcommand("keypair", "Create and manipulate key pairs");
  KeyOptions kp;
  std::string kp_from;
  std::string kp_from_file;
  bool kp_from_raw = false;
  bool only_private = false;
  bool only_public = false;
  std::string kp_format = "text";
  keypair->add_option("--from-private-key", kp_from, "derive from this private key");
  keypair->add_option("--from-private-key-file", kp_from_file, "derive from a private key file");
  keypair->add_flag("--from-raw-private-key", kp_from_raw, "the private key file holds raw bytes");
  keypair->add_option("--key-algorithm", kp.algorithm, "ed25519 (default) or secp256r1")
      ->check(CLI::IsMember({"ed25519", "secp256r1"}));
  keypair->add_flag("--only-private-key", only_private, "print only the private key");
  keypair->add_flag("--only-public-key", only_public, "print only the public key");
  keypair->add_option("--key-output-format", kp_format, "text (default), pem")
      ->check(CLI::IsMember({"text", "pem"}));

  // generate
  auto* generate = app.add_subcommand("generate", "Generate a token from an authority block");
  KeyOptions gen_key;
  std::string gen_file;
  std::string gen_context;
  std::string gen_ttl;
  std::uint32_t gen_root_key_id = 0;
  bool gen_raw = false;
  std::vector<std::string> gen_params;
  generate->add_option("DATALOG_FILE", gen_file, "authority block datalog (a file, or - for stdin)")
      ->required();
  AddKeyFlags(generate, gen_key, "private-key", false);
  auto* root_id_opt = generate->add_option("--root-key-id", gen_root_key_id, "root key id hint");
  generate->add_option("--context", gen_context, "block context");
  generate->add_option("--add-ttl", gen_ttl,
                       "add an expiration check (RFC 3339 date or 10s/5m/1h/2d)");
  generate->add_option("--param", gen_params, "datalog parameter name:type=value");
  generate->add_flag("--raw", gen_raw, "write the token as raw bytes instead of base64");

  // attenuate
  auto* attenuate = app.add_subcommand("attenuate", "Append a block to a token");
  std::string att_file;
  bool att_raw_in = false;
  bool att_raw_out = false;
  std::string att_block;
  std::string att_block_file;
  std::string att_context;
  std::string att_ttl;
  std::vector<std::string> att_params;
  attenuate->add_option("BISCUIT_FILE", att_file, "the token (a file, or - for stdin)")->required();
  attenuate->add_flag("--raw-input", att_raw_in, "the token is raw bytes");
  attenuate->add_flag("--raw-output", att_raw_out, "write raw bytes");
  attenuate->add_option("--block", att_block, "the block's datalog");
  attenuate->add_option("--block-file", att_block_file, "read the block's datalog from a file");
  attenuate->add_option("--context", att_context, "block context");
  attenuate->add_option("--add-ttl", att_ttl, "add an expiration check");
  attenuate->add_option("--param", att_params, "datalog parameter name:type=value");

  // inspect
  auto* inspect = app.add_subcommand("inspect", "Print a token, verify and authorize it");
  std::string ins_file;
  bool ins_raw_in = false;
  KeyOptions ins_key;
  std::string ins_auth;
  std::string ins_auth_file;
  bool ins_time = false;
  std::string ins_query;
  bool ins_query_all = false;
  std::uint64_t max_facts = 1000;
  std::uint64_t max_iterations = 100;
  std::uint64_t max_time_ms = 1;
  bool ins_json = false;
  std::vector<std::string> ins_params;
  inspect->add_option("BISCUIT_FILE", ins_file, "the token (a file, or - for stdin)")->required();
  inspect->add_flag("--raw-input", ins_raw_in, "the token is raw bytes");
  AddKeyFlags(inspect, ins_key, "public-key", true);
  inspect->add_option("--authorize-with", ins_auth, "authorizer datalog");
  inspect->add_option("--authorize-with-file", ins_auth_file,
                      "read authorizer datalog from a file");
  inspect->add_flag("--include-time", ins_time, "add time(<now>) to the authorizer");
  inspect->add_option("--query", ins_query, "a rule to query the world with after authorization");
  inspect->add_flag("--query-all", ins_query_all, "query facts from every block");
  inspect->add_option("--max-facts", max_facts, "run limit: facts (default 1000)");
  inspect->add_option("--max-iterations", max_iterations, "run limit: iterations (default 100)");
  inspect->add_option("--max-time", max_time_ms, "run limit: milliseconds (default 1)");
  inspect->add_flag("--json", ins_json, "print JSON");
  inspect->add_option("--param", ins_params, "datalog parameter name:type=value");

  // seal
  auto* seal = app.add_subcommand("seal", "Seal a token (no more attenuation)");
  std::string seal_file;
  bool seal_raw_in = false;
  bool seal_raw_out = false;
  seal->add_option("BISCUIT_FILE", seal_file, "the token (a file, or - for stdin)")->required();
  seal->add_flag("--raw-input", seal_raw_in, "the token is raw bytes");
  seal->add_flag("--raw-output", seal_raw_out, "write raw bytes");

  // third party
  auto* request = app.add_subcommand("generate-third-party-block-request",
                                     "Generate a third-party block request from a token");
  std::string req_file;
  bool req_raw_in = false;
  bool req_raw_out = false;
  request->add_option("BISCUIT_FILE", req_file, "the token (a file, or - for stdin)")->required();
  request->add_flag("--raw-input", req_raw_in, "the token is raw bytes");
  request->add_flag("--raw-output", req_raw_out, "write raw bytes");

  auto* tp_block =
      app.add_subcommand("generate-third-party-block", "Sign a third-party block for a request");
  std::string tpb_file;
  bool tpb_raw_in = false;
  bool tpb_raw_out = false;
  KeyOptions tpb_key;
  std::string tpb_block;
  std::string tpb_block_file;
  std::string tpb_context;
  std::vector<std::string> tpb_params;
  tp_block->add_option("REQUEST_FILE", tpb_file, "the request (a file, or - for stdin)")
      ->required();
  tp_block->add_flag("--raw-input", tpb_raw_in, "the request is raw bytes");
  tp_block->add_flag("--raw-output", tpb_raw_out, "write raw bytes");
  AddKeyFlags(tp_block, tpb_key, "private-key", false);
  tp_block->add_option("--block", tpb_block, "the block's datalog");
  tp_block->add_option("--block-file", tpb_block_file, "read the block's datalog from a file");
  tp_block->add_option("--context", tpb_context, "block context");
  tp_block->add_option("--param", tpb_params, "datalog parameter name:type=value");

  auto* append_tp =
      app.add_subcommand("append-third-party-block", "Append a third-party block to a token");
  std::string atp_file;
  bool atp_raw_in = false;
  bool atp_raw_out = false;
  std::string atp_contents;
  std::string atp_contents_file;
  bool atp_raw_contents = false;
  append_tp->add_option("BISCUIT_FILE", atp_file, "the token (a file, or - for stdin)")->required();
  append_tp->add_flag("--raw-input", atp_raw_in, "the token is raw bytes");
  append_tp->add_flag("--raw-output", atp_raw_out, "write raw bytes");
  append_tp->add_option("--block-contents", atp_contents, "the third-party block (base64)");
  append_tp->add_option("--block-contents-file", atp_contents_file,
                        "read the third-party block from a file");
  append_tp->add_flag("--raw-block-contents", atp_raw_contents, "the block file holds raw bytes");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (keypair->parsed()) {
      std::optional<kb::KeyPair> pair;
      if (!kp_from.empty() || !kp_from_file.empty()) {
        KeyOptions o{kp_from, kp_from_file, kp_from_raw, kp.algorithm};
        pair.emplace(LoadPrivateKey(o));
      } else {
        if (!only_private && !only_public) std::cout << "Generating a new random keypair\n";
        pair.emplace(kb::KeyPair::Generate(Check(kb::ParseAlgorithm(kp.algorithm), "algorithm")));
      }
      std::string priv = kp_format == "pem" ? Check(pair->private_key().ToPem(), "pem")
                                            : pair->private_key().ToString();
      std::string pub = kp_format == "pem" ? Check(pair->public_key().ToPem(), "pem")
                                           : pair->public_key().ToString();
      if (only_private) {
        std::cout << priv << (kp_format == "pem" ? "" : "\n");
      } else if (only_public) {
        std::cout << pub << (kp_format == "pem" ? "" : "\n");
      } else {
        std::cout << "Private key: " << priv << (kp_format == "pem" ? "" : "\n");
        std::cout << "Public key: " << pub << (kp_format == "pem" ? "" : "\n");
      }
      return 0;
    }

    if (generate->parsed()) {
      kb::PrivateKey key = LoadPrivateKey(gen_key);
      std::string code = ReadAll(gen_file);
      ParsedParams params = ParseParams(gen_params);
      kb::BiscuitBuilder builder;
      ParsedParams used = Used(params, code);
      Check(builder.AddCode(code, used.terms, used.keys), "datalog");
      if (!gen_ttl.empty()) Check(builder.AddCode(TtlCheck(gen_ttl)), "ttl");
      if (!gen_context.empty()) builder.SetContext(gen_context);
      if (root_id_opt->count() > 0) builder.SetRootKeyId(gen_root_key_id);
      kb::Biscuit token = Check(builder.Build(kb::KeyPair(key)), "generate");
      WriteOutput(Check(token.ToBytes(), "serialize"), gen_raw);
      return 0;
    }

    if (attenuate->parsed()) {
      std::string code = BlockCode(att_block, att_block_file);
      if (code.empty()) throw Failure{"a block is required (--block or --block-file)"};
      auto token =
          Check(kb::UnverifiedBiscuit::FromBytes(ReadBinaryOrBase64(att_file, att_raw_in, "token")),
                "token");
      kb::BlockBuilder block = MakeBlock(code, ParseParams(att_params), att_context, att_ttl);
      auto next = Check(token.Append(block), "attenuate");
      WriteOutput(Check(next.ToBytes(), "serialize"), att_raw_out);
      return 0;
    }

    if (seal->parsed()) {
      auto token = Check(
          kb::UnverifiedBiscuit::FromBytes(ReadBinaryOrBase64(seal_file, seal_raw_in, "token")),
          "token");
      WriteOutput(Check(Check(token.Seal(), "seal").ToBytes(), "serialize"), seal_raw_out);
      return 0;
    }

    if (request->parsed()) {
      auto token =
          Check(kb::UnverifiedBiscuit::FromBytes(ReadBinaryOrBase64(req_file, req_raw_in, "token")),
                "token");
      auto req = Check(token.CreateThirdPartyRequest(), "request");
      WriteOutput(Check(req.ToBytes(), "serialize"), req_raw_out);
      return 0;
    }

    if (tp_block->parsed()) {
      kb::PrivateKey key = LoadPrivateKey(tpb_key);
      std::string code = BlockCode(tpb_block, tpb_block_file);
      if (code.empty()) throw Failure{"a block is required (--block or --block-file)"};
      auto req = Check(
          kb::ThirdPartyRequest::FromBytes(ReadBinaryOrBase64(tpb_file, tpb_raw_in, "request")),
          "request");
      kb::BlockBuilder block = MakeBlock(code, ParseParams(tpb_params), tpb_context, "");
      auto contents = Check(req.CreateBlock(key, block), "third-party block");
      WriteOutput(Check(contents.ToBytes(), "serialize"), tpb_raw_out);
      return 0;
    }

    if (append_tp->parsed()) {
      auto token =
          Check(kb::UnverifiedBiscuit::FromBytes(ReadBinaryOrBase64(atp_file, atp_raw_in, "token")),
                "token");
      kisee::Bytes contents;
      if (!atp_contents.empty()) {
        contents = Check(kb::DecodeBase64(Trim(atp_contents)), "block contents");
      } else if (!atp_contents_file.empty()) {
        contents = ReadBinaryOrBase64(atp_contents_file, atp_raw_contents, "block contents");
      } else {
        throw Failure{"--block-contents or --block-contents-file is required"};
      }
      auto block = Check(kb::ThirdPartyBlock::FromBytes(contents), "block contents");
      auto next = Check(token.AppendThirdParty(block), "append");
      WriteOutput(Check(next.ToBytes(), "serialize"), atp_raw_out);
      return 0;
    }

    if (inspect->parsed()) {
      auto token =
          Check(kb::UnverifiedBiscuit::FromBytes(ReadBinaryOrBase64(ins_file, ins_raw_in, "token")),
                "token");
      nlohmann::ordered_json out;
      out["sealed"] = token.sealed();
      out["root_key_id"] = token.root_key_id().has_value()
                               ? nlohmann::ordered_json(*token.root_key_id())
                               : nlohmann::ordered_json(nullptr);
      out["blocks"] = nlohmann::ordered_json::array();
      auto ids = token.RevocationIds();
      std::string text;
      text += token.sealed() ? "Sealed biscuit\n" : "Open biscuit\n";
      if (token.root_key_id().has_value()) {
        text += fmt::format("Root key identifier: {}\n", *token.root_key_id());
      }
      for (std::size_t i = 0; i < token.block_count(); ++i) {
        std::string code = Check(token.BlockSource(i), "block");
        auto ext = token.BlockExternalKey(i);
        out["blocks"].push_back(
            {{"version", token.BlockVersion(i)},
             {"code", code},
             {"external_key", ext.has_value() ? nlohmann::ordered_json(ext->ToString())
                                              : nlohmann::ordered_json(nullptr)},
             {"revocation_id", kisee::HexEncode(ids[i])}});
        text += i == 0 ? "Authority block:\n" : fmt::format("Block n°{}:\n", i);
        if (ext.has_value()) text += "External signature by: " + ext->ToString() + "\n";
        text += "== Datalog v" + std::to_string(token.BlockVersion(i)) + " ==\n" + code;
        text += "\n== Revocation id ==\n" + kisee::HexEncode(ids[i]) + "\n\n==========\n\n";
      }
      bool ok = true;
      std::optional<kb::PublicKey> key = LoadPublicKey(ins_key);
      std::string auth_code = ins_auth;
      if (!ins_auth_file.empty()) auth_code = ReadAll(ins_auth_file);
      bool wants_auth = !auth_code.empty() || ins_time || !ins_query.empty();
      if (wants_auth && !key.has_value()) {
        throw Failure{"authorizing a token requires its public key (--public-key)"};
      }
      if (key.has_value()) {
        auto verified = token.Verify(*key);
        out["signatures"] = verified ? "ok" : verified.error().ToString();
        if (!verified) {
          ok = false;
          text += "Public key check failed: " + verified.error().ToString() + "\n";
        } else {
          text += "Public key check succeeded\n";
          if (wants_auth) {
            kb::AuthorizerBuilder builder;
            ParsedParams params = ParseParams(ins_params);
            ParsedParams used = Used(params, auth_code);
            Check(builder.AddCode(auth_code, used.terms, used.keys), "authorizer datalog");
            if (ins_time) builder.AddTime();
            builder.SetLimits(
                kb::RunLimits{max_facts, max_iterations, std::chrono::milliseconds(max_time_ms)});
            auto authorizer = Check(builder.Build(*verified), "authorizer");
            auto result = authorizer.Authorize();
            if (result) {
              text +=
                  fmt::format("Authorizer check succeeded\nMatched allow policy: {}\n", *result);
              out["authorization"] = {{"result", "ok"}, {"policy", *result}};
            } else {
              ok = false;
              text += "Authorizer check failed: " + result.error().ToString() + "\n";
              nlohmann::ordered_json failed = nlohmann::ordered_json::array();
              for (const auto& c : result.error().failed_checks()) {
                failed.push_back(
                    {{"block_id", c.block_id.has_value() ? nlohmann::ordered_json(*c.block_id)
                                                         : nlohmann::ordered_json(nullptr)},
                     {"check_id", c.check_id},
                     {"rule", c.rule}});
              }
              out["authorization"] = {{"result", "error"},
                                      {"error", result.error().ToString()},
                                      {"failed_checks", failed}};
            }
            text += "\nAuthorizer world:\n" + authorizer.PrintWorld();
            if (!ins_query.empty()) {
              ParsedParams qused = Used(params, ins_query);
              auto facts = ins_query_all ? authorizer.QueryAll(ins_query, qused.terms)
                                         : authorizer.Query(ins_query, qused.terms);
              if (!facts) {
                ok = false;
                text += "Query failed: " + facts.error().ToString() + "\n";
                out["query"] = {{"error", facts.error().ToString()}};
              } else {
                text += "\nQuery results:\n";
                nlohmann::ordered_json results = nlohmann::ordered_json::array();
                for (const auto& f : *facts) {
                  text += f.text + "\n";
                  results.push_back(f.text);
                }
                out["query"] = {{"results", results}};
              }
            }
          }
        }
      }
      if (ins_json) {
        std::cout << out.dump(2) << "\n";
      } else {
        std::cout << text;
      }
      return ok ? 0 : 1;
    }
  } catch (const Failure& f) {
    std::cerr << "error: " << f.message << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
