// Drives the reference implementation (@biscuit-auth/biscuit-wasm, the Rust
// code compiled to WebAssembly) for the interoperability tests. Reads one
// JSON request on stdin, writes one JSON answer as the last stdout line.
// Run with: node --experimental-wasm-modules biscuit_reference.mjs
import * as b from "@biscuit-auth/biscuit-wasm";
import { readFileSync } from "node:fs";

const request = JSON.parse(readFileSync(0, "utf8"));

function algorithmOf(key) {
  return key.startsWith("secp256r1") ? b.SignatureAlgorithm.Secp256r1 : b.SignatureAlgorithm.Ed25519;
}

function publicKey(text) {
  const hex = text.slice(text.indexOf("/") + 1);
  return b.PublicKey.fromString(hex, algorithmOf(text));
}

function privateKey(text) {
  return b.PrivateKey.fromString(text);
}

function block(code) {
  const builder = b.Biscuit.block_builder();
  builder.addCode(code);
  return builder;
}

function describeError(e) {
  if (e instanceof Error) return { message: e.message };
  return e;
}

function run(req) {
  switch (req.command) {
    case "keypair": {
      const kp = new b.KeyPair(req.algorithm === "secp256r1" ? b.SignatureAlgorithm.Secp256r1
                                                           : b.SignatureAlgorithm.Ed25519);
      return { private: kp.getPrivateKey().toString(), public: kp.getPublicKey().toString() };
    }
    case "mint": {
      const builder = b.Biscuit.builder();
      builder.addCode(req.authority);
      let token = builder.build(privateKey(req.root_private));
      for (const code of req.blocks || []) token = token.appendBlock(block(code));
      if (req.third_party) {
        const tpRequest = token.getThirdPartyRequest();
        const tpBlock = tpRequest.createBlock(privateKey(req.third_party.private), block(req.third_party.code));
        token = token.appendThirdPartyBlock(publicKey(req.third_party.public), tpBlock);
      }
      if (req.seal) token = token.sealToken();
      return { token: token.toBase64() };
    }
    case "third-party-block": {
      const tpRequest = b.ThirdPartyRequest.fromBase64(req.request);
      return { block: tpRequest.createBlock(privateKey(req.private), block(req.code)).toBase64() };
    }
    case "authorize": {
      let token;
      try {
        token = b.Biscuit.fromBase64(req.token, publicKey(req.root));
      } catch (e) {
        return { verified: false, error: describeError(e) };
      }
      const sources = [];
      for (let i = 0; i < token.countBlocks(); i++) sources.push(token.getBlockSource(i));
      const ids = token.getRevocationIdentifiers().map((id) =>
        typeof id === "string" ? id : Buffer.from(id).toString("hex"));
      const builder = new b.AuthorizerBuilder();
      builder.addCode(req.authorizer);
      const authorizer = builder.buildAuthenticated(token);
      try {
        // A generous time bound: the first run of freshly loaded WebAssembly
        // is slow and would hit the default 1 ms limit.
        const policy = authorizer.authorizeWithLimits({
          max_facts: 1000, max_iterations: 100, max_time_micro: 1000000 });
        return { verified: true, authorized: true, policy, sources, revocation_ids: ids };
      } catch (e) {
        return { verified: true, authorized: false, error: describeError(e), sources, revocation_ids: ids };
      }
    }
    default:
      throw new Error("unknown command " + req.command);
  }
}

let answer;
try {
  answer = run(request);
} catch (e) {
  answer = { exception: String(e && e.message ? e.message : JSON.stringify(e)) };
}
process.stdout.write("\n" + JSON.stringify(answer) + "\n");
