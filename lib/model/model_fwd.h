#pragma once
// Forward declarations of the model runtime's two main classes, for headers
// that take them by reference only: including transformer.h or tokenizer.h
// would pull LibTorch's nn headers into every editor and metric header.

namespace revive::model {
class Transformer;
class Tokenizer;
}  // namespace revive::model
