// Het scherm van de laptop in het Nederlands. Every field of Strings is set (screen_test checks).
#include "strings_tables.hpp"

namespace revive::agent::screen {

const Strings kDutch = {
    .starting = "Opstarten...",
    .looking_for_server = "Op zoek naar de server...",
    .no_cable = "Geen netwerkkabel?",
    .no_cable_hint = "Steek deze laptop in de netwerkswitch van de werkplaats.",
    .server_hint = "Draait de Revive-server? Vraag het een vrijwilliger.",
    .server = "server",
    .waiting = "Wacht op een beslissing van een vrijwilliger",
    .left = "te gaan",
    .done = "KLAAR",
    .grade = "Klasse",
    .next_poweroff = "Deze laptop gaat nu uit.",
    .next_reboot = "Herstarten in het nieuwe systeem.",
    .next_unknown = "Je mag deze laptop uitzetten.",
    .needs_volunteer = "VRIJWILLIGER NODIG",
    .volunteer_step =
        "Vraag een vrijwilliger deze laptop te openen op het dashboard: opnieuw of overslaan.",
    .detail = "Details",
    .step_inventory = "Hardware bekijken",
    .step_checks = "Controle met de hand",
    .step_wipe = "Schijf wissen",
    .step_test = "Hardware testen",
    .step_deploy = "Nieuw systeem installeren",
    .step_provision = "Nieuw systeem instellen",
    .step_certify = "Wiscertificaat ophalen",
    .step_finish = "Afronden",
    .failed_inventory = "De hardware kon niet gelezen worden.",
    .failed_checks = "De controle met de hand lukte niet.",
    .failed_wipe = "De schijf kon niet veilig gewist worden.",
    .failed_test = "De hardwaretest is niet afgerond.",
    .failed_deploy = "Het nieuwe systeem kon niet naar de schijf gekopieerd worden.",
    .failed_provision = "Het nieuwe systeem kon niet ingesteld worden.",
    .failed_certify = "Het wiscertificaat kon niet gemaakt worden.",
    .failed_finish = "De laatste stap ging mis.",
    .failed_job = "Deze laptop vertrouwt de gevonden server niet.",
    .keyboard_title = "Toetsenbord: druk op elke toets",
    .keyboard_hint =
        "Elke toets die werkt wordt groen. Klaar als alles ingedrukt is, of na een "
        "pauze.",
    .screen_title = "Scherm: zoek dode pixels en lichte vlekken",
    .screen_hint = "Een toets: volgende kleur",
    .screen_question = "Vulde elke kleur het hele scherm gelijkmatig?",
    .speaker_left = "Hoorde je een toon uit de LINKER luidspreker?",
    .speaker_right = "Hoorde je een toon uit de RECHTER luidspreker?",
    .speaker_title = "Luidsprekers",
    .usb_title = "USB-poorten",
    .usb_hint = "Steek om de beurt een USB-stick in elke USB-poort.",
    .answer_keys = "J = ja    N = nee",
    .yes_letters = "jy",
    .seconds_left = "s te gaan",
    .countdown_wipe = "DE SCHIJVEN VAN DEZE LAPTOP WORDEN ZO GEWIST",
    .countdown_deploy = "ER WORDT ZO EEN NIEUW SYSTEEM OP DE SCHIJF VAN DEZE LAPTOP GEZET",
    .countdown_cancel = "Niet de bedoeling? Druk op N of Esc: er wordt niets geschreven.",
    .countdown_workshop = "Werkplaats",
    .countdown_batch = "Partij",
};

}  // namespace revive::agent::screen
