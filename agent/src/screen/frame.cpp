#include "revive/agent/screen/frame.hpp"

#include <algorithm>
#include <cmath>

namespace revive::agent::screen {

namespace {
bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
}  // namespace

int cells(std::string_view s) {
  return static_cast<int>(
      std::count_if(s.begin(), s.end(), [](char c) { return !continuation(c); }));
}

std::string first_cells(std::string_view s, int n) {
  std::size_t i = 0;
  for (int seen = 0; i < s.size(); ++i) {
    if (!continuation(s[i]) && seen++ == n) break;
  }
  return std::string(s.substr(0, i));
}

void Frame::put(int row, int col, std::string_view text, Colour fg, Colour bg, bool bold) {
  if (row < 0 || row >= rows || col >= cols || text.empty()) return;
  if (col < 0) col = 0;
  spans.push_back({row, col, first_cells(text, cols - col), fg, bg, bold});
}

void Frame::centre(int row, std::string_view text, Colour fg, Colour bg, bool bold) {
  const int w = std::min(cells(text), cols);
  put(row, (cols - w) / 2, text, fg, bg, bold);
}

void Frame::bar(int row, int col, int width, int height, double fraction, Colour fill,
                Colour empty) {
  const double f = std::clamp(fraction, 0.0, 1.0);
  const int filled = static_cast<int>(std::lround(f * width));
  for (int r = row; r < row + height; ++r) {
    // Spaces with a background colour: every console font has the space.
    if (filled > 0) put(r, col, std::string(filled, ' '), fill, fill);
    if (filled < width) put(r, col + filled, std::string(width - filled, ' '), empty, empty);
  }
}

std::vector<std::string> Frame::text() const {
  std::vector<std::vector<std::string>> grid(rows, std::vector<std::string>(cols, " "));
  for (const auto& s : spans) {
    int c = s.col;
    for (std::size_t i = 0; i < s.text.size() && c < cols;) {
      std::size_t j = i + 1;
      while (j < s.text.size() && continuation(s.text[j])) ++j;
      grid[s.row][c++] = s.text.substr(i, j - i);
      i = j;
    }
  }
  std::vector<std::string> out;
  for (const auto& row : grid) {
    std::string line;
    for (const auto& cell : row) line += cell;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out.push_back(std::move(line));
  }
  return out;
}

bool Frame::shows(std::string_view needle) const { return find(needle) != nullptr; }

const Span* Frame::find(std::string_view needle) const {
  for (const auto& s : spans) {
    if (s.text.find(needle) != std::string::npos) return &s;
  }
  return nullptr;
}

}  // namespace revive::agent::screen
