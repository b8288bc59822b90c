// L'écran du portable en français. Every field of Strings is set (screen_test checks).
#include "strings_tables.hpp"

namespace revive::agent::screen {

const Strings kFrench = {
    .starting = "Démarrage...",
    .looking_for_server = "Recherche du serveur...",
    .no_cable = "Pas de câble réseau ?",
    .no_cable_hint = "Branchez ce portable sur le switch réseau de l'atelier.",
    .server_hint = "Le serveur Revive tourne-t-il ? Demandez à un bénévole.",
    .network_devices = "Cartes réseau trouvées (signalez-les si le câble est branché) :",
    .no_network_device = "Aucune carte réseau trouvée : utilisez un adaptateur réseau USB.",
    .server = "serveur",
    .waiting = "En attente de la décision d'un bénévole",
    .left = "restant",
    .done = "TERMINÉ",
    .grade = "Classe",
    .next_poweroff = "Ce portable va s'éteindre.",
    .next_reboot = "Redémarrage dans le nouveau système.",
    .next_unknown = "Vous pouvez éteindre ce portable.",
    .stick_out = "RETIREZ LA CLÉ USB",
    .already_done = "Ce portable a déjà terminé son parcours.",
    .needs_volunteer = "UN BÉNÉVOLE EST NÉCESSAIRE",
    .volunteer_step =
        "Demandez à un bénévole d'ouvrir ce portable dans le tableau de bord : "
        "réessayer ou passer l'étape.",
    .detail = "Détail",
    .step_inventory = "Examen du matériel",
    .step_checks = "Vérifications à la main",
    .step_wipe = "Effacement du disque",
    .step_test = "Test du matériel",
    .step_deploy = "Installation du nouveau système",
    .step_provision = "Configuration du nouveau système",
    .step_certify = "Certificat d'effacement",
    .step_finish = "Finalisation",
    .failed_inventory = "Le matériel n'a pas pu être lu.",
    .failed_checks = "Les vérifications à la main n'ont pas pu être faites.",
    .failed_wipe = "Le disque n'a pas pu être effacé de façon sûre.",
    .failed_test = "Le test du matériel ne s'est pas terminé.",
    .failed_deploy = "Le nouveau système n'a pas pu être copié sur le disque.",
    .failed_provision = "Le nouveau système n'a pas pu être configuré.",
    .failed_certify = "Le certificat d'effacement n'a pas pu être établi.",
    .failed_finish = "La dernière étape a échoué.",
    .failed_job = "Ce portable ne fait pas confiance au serveur trouvé.",
    .keyboard_title = "Clavier : appuyez sur chaque touche",
    .keyboard_hint =
        "Chaque touche qui marche devient verte. Fin quand tout est appuyé, ou "
        "après une pause.",
    .screen_title = "Écran : cherchez les pixels morts et les taches claires",
    .screen_hint = "Une touche : couleur suivante",
    .screen_question = "Chaque couleur a-t-elle rempli tout l'écran de façon égale ?",
    .speaker_left = "Avez-vous entendu un son du haut-parleur GAUCHE ?",
    .speaker_right = "Avez-vous entendu un son du haut-parleur DROIT ?",
    .speaker_title = "Haut-parleurs",
    .usb_title = "Ports USB",
    .usb_hint = "Branchez une clé USB dans chaque port USB, l'un après l'autre.",
    .answer_keys = "O = oui    N = non",
    .yes_letters = "oy",
    .seconds_left = "s restantes",
    .countdown_wipe = "LES DISQUES DE CET ORDINATEUR VONT ÊTRE EFFACÉS",
    .countdown_deploy = "UN NOUVEAU SYSTÈME VA ÊTRE ÉCRIT SUR LE DISQUE DE CET ORDINATEUR",
    .countdown_cancel = "Ce n'est pas voulu ? Appuyez sur N ou Échap : rien ne sera écrit.",
    .countdown_workshop = "Atelier",
    .countdown_batch = "Lot",
};

}  // namespace revive::agent::screen
