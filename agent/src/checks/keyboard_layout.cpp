#include "revive/agent/checks/keyboard_layout.hpp"

#include <array>

namespace revive::agent::checks {

namespace {

// Codes of the letter keys a..z (QWERTY positions).
constexpr std::array<int, 26> kLetters = {30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50,
                                          49, 24, 25, 16, 19, 31, 20, 22, 47, 17, 45, 21, 44};

constexpr Key kLayout[] = {
    {1, "Esc", 0, 4},    {59, "F1", 0, 4},   {60, "F2", 0, 4},      {61, "F3", 0, 4},
    {62, "F4", 0, 4},    {63, "F5", 0, 4},   {64, "F6", 0, 4},      {65, "F7", 0, 4},
    {66, "F8", 0, 4},    {67, "F9", 0, 4},   {68, "F10", 0, 4},     {87, "F11", 0, 4},
    {88, "F12", 0, 4},   {111, "Del", 0, 4}, {41, "`", 1, 4},       {2, "1", 1, 4},
    {3, "2", 1, 4},      {4, "3", 1, 4},     {5, "4", 1, 4},        {6, "5", 1, 4},
    {7, "6", 1, 4},      {8, "7", 1, 4},     {9, "8", 1, 4},        {10, "9", 1, 4},
    {11, "0", 1, 4},     {12, "-", 1, 4},    {13, "=", 1, 4},       {14, "Bksp", 1, 8},
    {15, "Tab", 2, 6},   {16, "Q", 2, 4},    {17, "W", 2, 4},       {18, "E", 2, 4},
    {19, "R", 2, 4},     {20, "T", 2, 4},    {21, "Y", 2, 4},       {22, "U", 2, 4},
    {23, "I", 2, 4},     {24, "O", 2, 4},    {25, "P", 2, 4},       {26, "[", 2, 4},
    {27, "]", 2, 4},     {43, "\\", 2, 6},   {58, "Caps", 3, 7},    {30, "A", 3, 4},
    {31, "S", 3, 4},     {32, "D", 3, 4},    {33, "F", 3, 4},       {34, "G", 3, 4},
    {35, "H", 3, 4},     {36, "J", 3, 4},    {37, "K", 3, 4},       {38, "L", 3, 4},
    {39, ";", 3, 4},     {40, "'", 3, 4},    {28, "Enter", 3, 9},   {42, "Shift", 4, 9},
    {44, "Z", 4, 4},     {45, "X", 4, 4},    {46, "C", 4, 4},       {47, "V", 4, 4},
    {48, "B", 4, 4},     {49, "N", 4, 4},    {50, "M", 4, 4},       {51, ",", 4, 4},
    {52, ".", 4, 4},     {53, "/", 4, 4},    {54, "RShift", 4, 11}, {29, "Ctrl", 5, 5},
    {125, "Win", 5, 5},  {56, "Alt", 5, 5},  {57, "Space", 5, 20},  {100, "AltGr", 5, 5},
    {97, "RCtrl", 5, 5}, {105, "<", 5, 4},   {103, "^", 5, 4},      {108, "v", 5, 4},
    {106, ">", 5, 4},
};

}  // namespace

std::span<const Key> laptop_layout() { return kLayout; }

const Key* key_labelled(const std::string& label) {
  for (const auto& k : kLayout) {
    if (label == k.label) return &k;
  }
  return nullptr;
}

int letter_code(char letter) {
  if (letter < 'a' || letter > 'z') return 0;
  return kLetters[static_cast<std::size_t>(letter - 'a')];
}

}  // namespace revive::agent::checks
