#include "kisee/certified/service_record.h"

#include <yaml-cpp/yaml.h>

#include <exception>

#include "certified/internal/url.h"

namespace kisee::certified {

Result<ServiceRecord> ServiceRecord::FromYaml(std::string_view text) {
  // yaml-cpp reports everything by exception; none may leave this function.
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) {
      return MakeError(ErrorCode::kInvalidArgument, "a service record must be a YAML mapping");
    }
    ServiceRecord record;
    YAML::Node url = root["url"];
    if (!url || !url.IsScalar()) {
      return MakeError(ErrorCode::kInvalidArgument, "a service record needs a url");
    }
    record.url = url.as<std::string>();
    YAML::Node cert = root["cert"];
    if (cert && !cert.IsNull()) {
      if (!cert.IsScalar()) {
        return MakeError(ErrorCode::kInvalidArgument, "a service record's cert must be text");
      }
      record.cert = cert.as<std::string>();
    }
    YAML::Node auths = root["auths"];
    if (auths && !auths.IsNull()) {
      if (!auths.IsSequence()) {
        return MakeError(ErrorCode::kInvalidArgument, "a service record's auths must be a list");
      }
      for (const auto& auth : auths) {
        if (!auth.IsScalar()) {
          return MakeError(ErrorCode::kInvalidArgument, "a service record's auths must be names");
        }
        record.auths.push_back(auth.as<std::string>());
      }
    }
    return record;
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("invalid service record: ") + e.what());
  }
}

std::string ServiceRecord::ToYaml() const {
  YAML::Emitter out;
  out.SetNullFormat(YAML::LowerNull);
  out << YAML::BeginMap;
  out << YAML::Key << "auths" << YAML::Value;
  if (auths.empty()) {
    out << YAML::Flow;
  }
  out << YAML::BeginSeq;
  for (const auto& auth : auths) out << auth;
  out << YAML::EndSeq;
  out << YAML::Key << "cert" << YAML::Value;
  if (cert) {
    out << *cert;
  } else {
    out << YAML::Null;
  }
  out << YAML::Key << "url" << YAML::Value << url;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Status ValidateServiceUrl(std::string_view url) {
  KISEE_ASSIGN_OR_RETURN(auto parts, internal::SplitUrl(url));
  auto invalid = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "Service URL " + std::string(url) + " " + std::string(why));
  };
  if (parts.scheme != "https") return invalid("must use https.");
  if (parts.has_user_info) return invalid("must not contain user info.");
  if (parts.query) return invalid("must not use query.");
  if (parts.fragment) return invalid("must not use fragment.");
  if (parts.port && *parts.port == 0) return invalid("must not use port 0.");
  return Ok();
}

}  // namespace kisee::certified
