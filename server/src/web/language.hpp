#pragma once
// Which of the wall's languages a browser gets (Dutch, French, English: the programmes are in
// the Netherlands and Belgium): an explicit choice (?lang=, the switch on the page) wins, then
// the browser's Accept-Language by weight, then English. Pure.

#include <span>
#include <string>
#include <string_view>

namespace revive::server::web {

/// The languages the wall has strings for (server/web/i18n/<code>.json).
std::span<const std::string_view> wall_languages();

/// `chosen` when it is one of `available`; else the first language of `accept_language` (RFC
/// 9110: "nl-BE, fr;q=0.8, *;q=0.1"; ties keep the header's order, q=0 means never, a region
/// matches its language) that is available; else `available`'s first.
std::string choose_language(std::string_view chosen, std::string_view accept_language,
                            std::span<const std::string_view> available);

}  // namespace revive::server::web
