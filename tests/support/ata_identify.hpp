#pragma once
// Builds ATA IDENTIFY DEVICE data word by word, as ACS-4 lays it out: strings byte-swapped per
// word, capabilities in words 59, 82, 83, 128, and the integrity word (A5h + checksum).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace revive::test {

struct AtaIdentifyBuilder {
  std::vector<std::uint8_t> d = std::vector<std::uint8_t>(512);
  void word(std::size_t w, std::uint16_t v) {
    d[2 * w] = static_cast<std::uint8_t>(v);
    d[2 * w + 1] = static_cast<std::uint8_t>(v >> 8);
  }
  std::uint16_t get(std::size_t w) const {
    return static_cast<std::uint16_t>(d[2 * w] | (d[2 * w + 1] << 8));
  }
  void str(std::size_t w, std::size_t words, const std::string& s) {
    std::string p = s;
    p.resize(2 * words, ' ');
    for (std::size_t i = 0; i < words; ++i) {
      word(w + i, static_cast<std::uint16_t>((static_cast<unsigned char>(p[2 * i]) << 8) |
                                             static_cast<unsigned char>(p[2 * i + 1])));
    }
  }
  /// LBA48 sector count in words 100-103 (and word 83 bit 10).
  void sectors48(std::uint64_t n) {
    word(83, static_cast<std::uint16_t>(get(83) | (1u << 10)));
    for (unsigned i = 0; i < 4; ++i) word(100 + i, static_cast<std::uint16_t>(n >> (16 * i)));
  }
  std::vector<std::uint8_t> sealed() {
    d[510] = 0xA5;
    std::uint8_t sum = 0;
    for (int i = 0; i < 511; ++i) sum = static_cast<std::uint8_t>(sum + d[i]);
    d[511] = static_cast<std::uint8_t>(-sum);
    return d;
  }
};

}  // namespace revive::test
