// The verify_block_2 workload on the reference implementation
// (@biscuit-auth/biscuit-wasm): parse + verify + authorize of a 2-block
// Ed25519 token. Prints {"verify_block_2_us": ...} as its last line.
import * as b from "@biscuit-auth/biscuit-wasm";

const root = new b.KeyPair(b.SignatureAlgorithm.Ed25519);
const builder = b.Biscuit.builder();
builder.addCode('right("file1", "read"); right("file2", "read"); right("file1", "write");');
let token = builder.build(root.getPrivateKey());
const block = b.Biscuit.block_builder();
block.addCode('check if resource("file1"); check if operation("read");');
token = token.appendBlock(block);
const data = token.toBytes();
const limits = { max_facts: 1000, max_iterations: 100, max_time_micro: 10000000 };

function once() {
  const t = b.Biscuit.fromBytes(data, root.getPublicKey());
  const a = new b.AuthorizerBuilder();
  a.addCode('resource("file1"); operation("read"); allow if true;');
  const authorizer = a.buildAuthenticated(t);
  authorizer.authorizeWithLimits(limits);
  authorizer.free();
  t.free();
}

for (let i = 0; i < 300; i++) once();
const n = Number(process.argv[2] || 2000);
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) once();
const elapsed = Number(process.hrtime.bigint() - start) / 1000 / n;
process.stdout.write("\n" + JSON.stringify({ verify_block_2_us: elapsed }) + "\n");
