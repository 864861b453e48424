#pragma once

#include <cstddef>
#include <string>

namespace tunelab {

// What is damaged in a ZIP archive held in memory: the format of LibTorch's saved tensors, state dicts
// and TorchScript modules, and of PyTorch's torch.save. LibTorch reads such archives without checking
// their CRC-32s, so a bit flipped on a disk would load as a changed weight; this checks every stored
// entry against its CRC-32, and that the directory and the entries lie inside the bytes.
//
// Returns "" when every entry checks, and for bytes that do not begin as a ZIP archive (another
// format, left to its reader). Otherwise a sentence fit to follow "the model is damaged: ", naming
// the entry ("'archive/data/7' does not match its CRC-32"). Compressed entries, which LibTorch does
// not write, are checked for their place only.
std::string zipArchiveDamage(const char* data, size_t size);

} // namespace tunelab
