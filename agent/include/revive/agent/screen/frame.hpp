#pragma once
// What one screenful looks like, in character cells: the pure screen models draw Frames, a
// Display shows them (the Linux console through ANSI escapes; tests read them as text).

#include <string>
#include <string_view>
#include <vector>

namespace revive::agent::screen {

/// The eight colours every Linux virtual terminal has (and a serial terminal understands).
enum class Colour { black, red, green, yellow, blue, magenta, cyan, white };

/// Text at a cell position: `text` is UTF-8, one cell per character (no wide characters).
struct Span {
  int row = 0;
  int col = 0;
  std::string text;
  Colour fg = Colour::white;
  Colour bg = Colour::black;
  bool bold = false;
};

struct Frame {
  int cols = 80;
  int rows = 25;
  Colour background = Colour::black;
  std::vector<Span> spans;

  /// Adds a span, cut to the frame's width (spans outside the frame are dropped).
  void put(int row, int col, std::string_view text, Colour fg, Colour bg, bool bold = false);
  /// The same, centred on the row.
  void centre(int row, std::string_view text, Colour fg, Colour bg, bool bold = false);
  /// A `height`-row bar from `col`, `width` cells wide, `fraction` (0-1) of it in `fill`.
  void bar(int row, int col, int width, int height, double fraction, Colour fill, Colour empty);
  /// The frame as plain text, one string per row (tests, and the log of what was shown).
  std::vector<std::string> text() const;
  /// Whether some span's text contains `needle`.
  bool shows(std::string_view needle) const;
  /// The first span whose text contains `needle`, or null.
  const Span* find(std::string_view needle) const;
};

/// Characters (not bytes) in a UTF-8 string: the cells it takes.
int cells(std::string_view utf8);
/// The first `n` characters of a UTF-8 string (never half a character).
std::string first_cells(std::string_view utf8, int n);

}  // namespace revive::agent::screen
