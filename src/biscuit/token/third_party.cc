#include "biscuit/crypto/payload.h"
#include "biscuit/format/convert.h"
#include "biscuit/token/internal.h"
#include "kisee/core/error.h"

namespace kisee::biscuit {

Result<ThirdPartyRequest> ThirdPartyRequest::FromBytes(ByteView bytes) {
  format::pb::ThirdPartyBlockRequest proto;
  if (!format::ParseMessage(proto, bytes)) {
    return MakeError(ErrorKind::kDeserialization, "invalid third-party block request");
  }
  // Requests from implementations older than v1 signatures carry keys.
  if (proto.has_legacypreviouskey() || proto.legacypublickeys_size() > 0) {
    return MakeError(ErrorKind::kDeserialization,
                     "legacy third-party block request (previous key or public keys set)");
  }
  ThirdPartyRequest out;
  out.previous_signature_ = kisee::ToBytes(proto.previoussignature());
  return out;
}

Result<ThirdPartyRequest> ThirdPartyRequest::FromBase64(std::string_view text) {
  KISEE_ASSIGN_OR_RETURN(Bytes bytes, DecodeBase64(text));
  return FromBytes(bytes);
}

Result<Bytes> ThirdPartyRequest::ToBytes() const {
  format::pb::ThirdPartyBlockRequest proto;
  proto.set_previoussignature(std::string(AsChars(previous_signature_)));
  std::string out;
  if (!proto.SerializeToString(&out)) {
    return MakeError(ErrorKind::kSerialization, "serialization error");
  }
  return kisee::ToBytes(out);
}

Result<std::string> ThirdPartyRequest::ToBase64() const {
  KISEE_ASSIGN_OR_RETURN(Bytes bytes, ToBytes());
  return EncodeBase64(bytes);
}

Result<ThirdPartyBlock> ThirdPartyRequest::CreateBlock(const PrivateKey& key,
                                                       const BlockBuilder& builder) const {
  // Third-party blocks start from the default tables: the third party never
  // sees the token.
  datalog::SymbolTable table;
  KISEE_ASSIGN_OR_RETURN(datalog::Block block,
                         internal::BuildBlock(builder.content(), table, datalog::kDatalog32));
  KISEE_ASSIGN_OR_RETURN(Bytes payload, format::EncodeBlock(block));
  KISEE_ASSIGN_OR_RETURN(Bytes signature,
                         key.Sign(crypto::ExternalPayloadV1(payload, previous_signature_, 1)));
  return internal::TokenData::MakeThirdPartyBlock(std::move(payload), std::move(signature),
                                                  key.public_key());
}

Result<ThirdPartyBlock> ThirdPartyBlock::FromBytes(ByteView bytes) {
  format::pb::ThirdPartyBlockContents proto;
  if (!format::ParseMessage(proto, bytes)) {
    return MakeError(ErrorKind::kDeserialization, "invalid third-party block contents");
  }
  KISEE_ASSIGN_OR_RETURN(datalog::PublicKeyData data,
                         format::FromProto(proto.externalsignature().publickey()));
  KISEE_ASSIGN_OR_RETURN(PublicKey key, internal::FromKeyData(data));
  return internal::TokenData::MakeThirdPartyBlock(
      kisee::ToBytes(proto.payload()), kisee::ToBytes(proto.externalsignature().signature()),
      std::move(key));
}

Result<ThirdPartyBlock> ThirdPartyBlock::FromBase64(std::string_view text) {
  KISEE_ASSIGN_OR_RETURN(Bytes bytes, DecodeBase64(text));
  return FromBytes(bytes);
}

Result<Bytes> ThirdPartyBlock::ToBytes() const {
  format::pb::ThirdPartyBlockContents proto;
  proto.set_payload(std::string(AsChars(payload_)));
  proto.mutable_externalsignature()->set_signature(std::string(AsChars(signature_)));
  *proto.mutable_externalsignature()->mutable_publickey() =
      format::ToProto(internal::ToKeyData(*external_key_));
  std::string out;
  if (!proto.SerializeToString(&out)) {
    return MakeError(ErrorKind::kSerialization, "serialization error");
  }
  return kisee::ToBytes(out);
}

Result<std::string> ThirdPartyBlock::ToBase64() const {
  KISEE_ASSIGN_OR_RETURN(Bytes bytes, ToBytes());
  return EncodeBase64(bytes);
}

}  // namespace kisee::biscuit
