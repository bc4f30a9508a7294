"""Templates and vocabularies behind `annotator.demo.text`.

Slots are `{NAME}`; `SLOT_LABELS` maps each to its entity label. Dates are split into past and
future slots so a template never says "since tomorrow". Templates never start with a slot, so
capitalisation never depends on the filled value.
"""

SLOT_LABELS: dict[str, str] = {
    "DATE_PAST": "DATE",
    "DATE_FUTURE": "DATE",
    "LOCATION": "LOCATION",
    "PRODUCT": "PRODUCT",
    "AMOUNT": "AMOUNT",
    "ORDER_ID": "ORDER_ID",
}

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "en": {
        "track_order": [
            "Hi, where is my order {ORDER_ID}?",
            "I ordered the {PRODUCT} {DATE_PAST} and I still have no tracking number.",
            "Can you tell me when order {ORDER_ID} will arrive in {LOCATION}?",
            "What's the status of my {PRODUCT}? The order number is {ORDER_ID}.",
            "The tracking for {ORDER_ID} hasn't moved since {DATE_PAST}, is it stuck in {LOCATION}?",
            "Is my {PRODUCT} still going to arrive {DATE_FUTURE}?",
            "Could you check where parcel {ORDER_ID} is right now?",
        ],
        "request_refund": [
            "I'd like a refund for the {PRODUCT}, I paid {AMOUNT}.",
            "I returned order {ORDER_ID} {DATE_PAST} and haven't seen my {AMOUNT} yet.",
            "Please refund the {AMOUNT} for the {PRODUCT}, it doesn't work.",
            "How long does a refund take? I sent back the {PRODUCT} {DATE_PAST}.",
            "You charged me {AMOUNT} for order {ORDER_ID} but it never came, I want my money back.",
            "Can I get a refund instead of a replacement for my {PRODUCT}?",
        ],
        "cancel_order": [
            "Please cancel order {ORDER_ID}.",
            "I want to cancel the {PRODUCT} I ordered {DATE_PAST}.",
            "Can I still cancel {ORDER_ID}? It ships {DATE_FUTURE}.",
            "I ordered the {PRODUCT} twice by mistake, please cancel one of them.",
            "Cancel my order {ORDER_ID} for {AMOUNT}, I found it cheaper elsewhere.",
            "Is it too late to cancel the {PRODUCT}? It was {AMOUNT}.",
        ],
        "change_address": [
            "I moved, please ship order {ORDER_ID} to {LOCATION} instead.",
            "Can you change the delivery address to {LOCATION}?",
            "I need the {PRODUCT} delivered to {LOCATION}, not to my old address.",
            "Please update my address to {LOCATION} before {DATE_FUTURE}.",
            "Wrong address on {ORDER_ID}: it should go to {LOCATION}.",
            "I'll be in {LOCATION} from {DATE_FUTURE}, can you send the {PRODUCT} there?",
        ],
        "delivery_problem": [
            "My {PRODUCT} arrived damaged {DATE_PAST}.",
            "The courier says order {ORDER_ID} was delivered but I never got it.",
            "I received the wrong item in {ORDER_ID}, I ordered the {PRODUCT}.",
            "The parcel was left outside in {LOCATION} and the {PRODUCT} got wet.",
            "Order {ORDER_ID} was supposed to arrive {DATE_PAST} and nothing came.",
            "Half of my order is missing, there's no {PRODUCT} in the box.",
        ],
        "account_access": [
            "I can't log into my account since {DATE_PAST}.",
            "I forgot my password and the reset email never arrives.",
            "My account is locked, I tried to sign in from {LOCATION}.",
            "Someone changed my email address {DATE_PAST}, I can't access my orders.",
            "How do I enable two-factor authentication on my account?",
            "I can't see order {ORDER_ID} in my account anymore.",
        ],
        "payment_issue": [
            "I was charged {AMOUNT} twice for order {ORDER_ID}.",
            "My card was declined when I tried to buy the {PRODUCT}.",
            "Why did you take {AMOUNT} from my account {DATE_PAST}?",
            "The checkout shows {AMOUNT} but the listed price was {AMOUNT}.",
            "The PayPal payment for {ORDER_ID} failed but the money left my account.",
            "Can I pay the {AMOUNT} in three instalments?",
        ],
        "product_question": [
            "Does the {PRODUCT} come with a warranty?",
            "Is the {PRODUCT} in stock in {LOCATION}?",
            "Will the {PRODUCT} be back in stock by {DATE_FUTURE}?",
            "Is the {PRODUCT} compatible with the one I bought in order {ORDER_ID}?",
            "Why is the {PRODUCT} {AMOUNT} online but cheaper in the shop?",
            "What's the difference between the {PRODUCT} and the {PRODUCT}?",
        ],
    },
    "fr": {
        "track_order": [
            "Bonjour, où en est ma commande {ORDER_ID} ?",
            "J'ai commandé {PRODUCT} {DATE_PAST} et je n'ai toujours pas de numéro de suivi.",
            "Quand est-ce que la commande {ORDER_ID} arrivera à {LOCATION} ?",
            "Pouvez-vous me dire où se trouve mon colis {ORDER_ID} ?",
            "Le suivi de {ORDER_ID} n'a pas bougé depuis {DATE_PAST}.",
            "Est-ce que je vais bien recevoir {PRODUCT} {DATE_FUTURE} ?",
        ],
        "request_refund": [
            "Je voudrais être remboursé pour {PRODUCT}, j'ai payé {AMOUNT}.",
            "J'ai renvoyé la commande {ORDER_ID} {DATE_PAST} et je n'ai pas revu mes {AMOUNT}.",
            "Merci de me rembourser les {AMOUNT}, l'article ne fonctionne pas.",
            "Combien de temps prend un remboursement ? J'ai retourné {PRODUCT} {DATE_PAST}.",
            "Vous m'avez débité {AMOUNT} pour la commande {ORDER_ID} mais je n'ai rien reçu.",
            "Est-ce que je peux avoir un remboursement plutôt qu'un échange pour {PRODUCT} ?",
        ],
        "cancel_order": [
            "Merci d'annuler la commande {ORDER_ID}.",
            "Je souhaite annuler la commande passée {DATE_PAST} pour {PRODUCT}.",
            "Puis-je encore annuler {ORDER_ID} ? Elle part {DATE_FUTURE}.",
            "J'ai commandé {PRODUCT} deux fois par erreur, pouvez-vous en annuler une ?",
            "Annulez ma commande {ORDER_ID} de {AMOUNT}, j'ai trouvé moins cher ailleurs.",
            "Est-il trop tard pour annuler ? J'ai payé {AMOUNT} pour {PRODUCT}.",
        ],
        "change_address": [
            "J'ai déménagé, merci d'envoyer la commande {ORDER_ID} à {LOCATION}.",
            "Pouvez-vous changer l'adresse de livraison pour {LOCATION} ?",
            "Je voudrais recevoir {PRODUCT} à {LOCATION} et non à mon ancienne adresse.",
            "Merci de mettre à jour mon adresse avant {DATE_FUTURE} : {LOCATION}.",
            "Mauvaise adresse sur {ORDER_ID}, le colis doit aller à {LOCATION}.",
            "Je serai à {LOCATION} dès {DATE_FUTURE}, pouvez-vous y livrer {PRODUCT} ?",
        ],
        "delivery_problem": [
            "J'ai reçu {PRODUCT} {DATE_PAST}, mais le carton était abîmé et l'article cassé.",
            "Le livreur dit que la commande {ORDER_ID} a été livrée mais je n'ai rien reçu.",
            "J'ai reçu le mauvais article dans {ORDER_ID}, j'avais commandé {PRODUCT}.",
            "Le colis a été laissé devant la porte à {LOCATION} et tout est mouillé.",
            "La commande {ORDER_ID} devait arriver {DATE_PAST} et rien n'est venu.",
            "Il manque {PRODUCT} dans mon colis.",
        ],
        "account_access": [
            "Je n'arrive plus à me connecter à mon compte depuis {DATE_PAST}.",
            "J'ai oublié mon mot de passe et je ne reçois pas l'e-mail de réinitialisation.",
            "Mon compte est bloqué, j'ai essayé de me connecter depuis {LOCATION}.",
            "Quelqu'un a modifié mon adresse e-mail {DATE_PAST}, je n'ai plus accès à mes commandes.",
            "Comment activer la double authentification sur mon compte ?",
            "Je ne vois plus la commande {ORDER_ID} dans mon espace client.",
        ],
        "payment_issue": [
            "J'ai été débité deux fois de {AMOUNT} pour la commande {ORDER_ID}.",
            "Ma carte a été refusée quand j'ai voulu acheter {PRODUCT}.",
            "Pourquoi avez-vous prélevé {AMOUNT} sur mon compte {DATE_PAST} ?",
            "Le panier affiche {AMOUNT} alors que le prix annoncé était de {AMOUNT}.",
            "Le paiement PayPal de {ORDER_ID} a échoué mais l'argent a quitté mon compte.",
            "Est-ce que je peux payer les {AMOUNT} en trois fois ?",
        ],
        "product_question": [
            "Quelle est la garantie pour {PRODUCT} ?",
            "Avez-vous {PRODUCT} en stock à {LOCATION} ?",
            "Est-ce que vous aurez de nouveau {PRODUCT} en stock {DATE_FUTURE} ?",
            "Je voudrais savoir si {PRODUCT} est compatible avec ma commande {ORDER_ID}.",
            "Pourquoi {PRODUCT} coûte {AMOUNT} en ligne et moins cher en magasin ?",
            "Quelle est la différence entre {PRODUCT} et {PRODUCT} ?",
        ],
    },
}

# English products take "the"/"my" from the template; French ones carry their article so the
# templates need no gender agreement.
PRODUCTS: dict[str, list[str]] = {
    "en": [
        "wireless headphones",
        "coffee machine",
        "standing desk",
        "running shoes",
        "winter jacket",
        "phone case",
        "robot vacuum",
        "electric kettle",
        "gaming mouse",
        "yoga mat",
        "blender",
        "desk lamp",
        "backpack",
        "smartwatch",
        "bluetooth speaker",
        "air fryer",
        "office chair",
        "hair dryer",
        "4K monitor",
        "mechanical keyboard",
    ],
    "fr": [
        "un aspirateur",
        "une machine à café",
        "des écouteurs sans fil",
        "un bureau assis-debout",
        "des chaussures de running",
        "une veste d'hiver",
        "une coque de téléphone",
        "une bouilloire électrique",
        "une souris gamer",
        "un tapis de yoga",
        "un mixeur",
        "une lampe de bureau",
        "un sac à dos",
        "une montre connectée",
        "une enceinte Bluetooth",
        "une friteuse sans huile",
        "une chaise de bureau",
        "un sèche-cheveux",
        "un écran 4K",
        "un clavier mécanique",
    ],
}

CITIES: list[str] = [
    "Paris",
    "Lyon",
    "Marseille",
    "Toulouse",
    "Bordeaux",
    "Lille",
    "Nantes",
    "Strasbourg",
    "Rennes",
    "Montpellier",
    "Grenoble",
    "Nice",
    "London",
    "Manchester",
    "Edinburgh",
    "Bristol",
    "Leeds",
    "Glasgow",
    "New York",
    "Chicago",
    "Boston",
    "Seattle",
    "Austin",
    "San Francisco",
    "Denver",
    "Montréal",
    "Bruxelles",
    "Genève",
]

STREET_ADDRESSES: dict[str, list[str]] = {
    "en": [
        "221B Baker Street, London",
        "15 Market Street, Manchester",
        "350 Fifth Avenue, New York",
        "42 Princes Street, Edinburgh",
        "1200 Pike Street, Seattle",
        "77 Mass Ave, Boston",
    ],
    "fr": [
        "14 rue des Lilas, Nantes",
        "3 place Bellecour, Lyon",
        "27 avenue Jean Jaurès, Toulouse",
        "8 boulevard Voltaire, Paris",
        "5 quai des Chartrons, Bordeaux",
        "19 rue Nationale, Lille",
    ],
}

RELATIVE_DATES: dict[str, dict[str, list[str]]] = {
    "en": {
        "past": ["yesterday", "last Friday", "last week", "last Monday", "Tuesday"],
        "future": ["tomorrow", "next Monday", "this weekend", "next week", "Thursday"],
    },
    "fr": {
        "past": ["hier", "avant-hier", "vendredi dernier", "la semaine dernière", "lundi"],
        "future": ["demain", "lundi prochain", "ce week-end", "la semaine prochaine", "jeudi"],
    },
}

MONTHS: dict[str, list[str]] = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
}

# Dialogue openings: the context always ends on an agent turn, so the utterance to label reads
# as the customer's answer.
AGENT_GREETINGS: dict[str, list[str]] = {
    "en": [
        "Hello, thanks for contacting support. How can I help you today?",
        "Hi! You're chatting with Sam from customer service. What can I do for you?",
        "Good morning, how can I help?",
        "Welcome back! What can I help you with?",
    ],
    "fr": [
        "Bonjour, merci de contacter le service client. Comment puis-je vous aider ?",
        "Bonjour ! Vous êtes en ligne avec Camille. Que puis-je faire pour vous ?",
        "Bonjour, en quoi puis-je vous aider ?",
        "Bon retour parmi nous ! Quelle est votre demande ?",
    ],
}

CUSTOMER_OPENINGS: dict[str, list[str]] = {
    "en": [
        "Hi, I have a question about an order.",
        "Hello, I need some help please.",
        "Hi there.",
        "Good evening, I have a problem.",
    ],
    "fr": [
        "Bonjour, j'ai une question sur une commande.",
        "Bonjour, j'aurais besoin d'aide s'il vous plaît.",
        "Bonsoir.",
        "Bonjour, j'ai un problème.",
    ],
}

AGENT_FOLLOW_UPS: dict[str, list[str]] = {
    "en": [
        "Sure, could you give me a few details?",
        "Of course. What seems to be the problem?",
        "I'm sorry to hear that. Can you tell me more?",
        "Happy to help. What's going on?",
    ],
    "fr": [
        "Bien sûr, pouvez-vous me donner quelques détails ?",
        "Tout à fait. Quel est le problème ?",
        "Je suis désolé de l'apprendre. Pouvez-vous m'en dire plus ?",
        "Avec plaisir. Que se passe-t-il ?",
    ],
}
