/**
 * The words the demo database is made of. Chosen to be realistic and awkward at once: names with
 * accents and apostrophes, cities outside ASCII, array elements that need quoting, and comment
 * text with tabs, newlines, backslashes, emoji, CJK and Cyrillic — what COPY and Parquet must
 * carry through a snapshot unchanged. `cities[i]` lies in `countries[i]`.
 */
// biome-ignore format: word lists read best as a grid
export const demoVocabulary = {
  firstNames: [
    'Anna', 'Ben', 'Chloé', 'David', 'Emma', 'François', 'Grace', 'Hannah', 'Igor', 'José', 'Julia', 'Karim',
    'Łukasz', 'Maria', 'Noah', 'Olivia', 'Paul', 'Quinn', 'Renée', 'Søren', 'Sofia', 'Tomás', 'Uma', 'Victor',
    'Wei', 'Xavier', 'Yuki', 'Zoë', "D'Arcy", 'Jürgen',
  ],
  lastNames: [
    'Smith', 'Müller', 'García', 'Nowak', 'Rossi', 'Dubois', 'Jensen', 'Kowalski', 'Novák', 'Silva', 'Tanaka',
    'Kim', 'Nguyen', "O'Brien", 'Johansson', 'Martínez', 'Papadopoulos', 'Yılmaz', 'Brown', 'Wilson',
    'Fernández', 'Schäfer', 'Lefèvre', 'Hansen', 'Ivanova',
  ],
  emailDomains: ['example.com', 'example.org', 'mail.example.net', 'shop.example'],
  cities: [
    'London', 'München', 'Kraków', 'São Paulo', 'Zürich', 'Reykjavík', 'Montréal', 'Lyon', 'Brno', 'Porto',
    'Göteborg', 'Kyiv', 'Osaka', 'Austin', 'Dublin',
  ],
  countries: ['GB', 'DE', 'PL', 'BR', 'CH', 'IS', 'CA', 'FR', 'CZ', 'PT', 'SE', 'UA', 'JP', 'US', 'IE'],
  streets: ['High Street', 'Hauptstraße', 'ul. Floriańska', 'Rua Augusta', 'Bahnhofstrasse', 'Laugavegur'],
  productAdjectives: ['Classic', 'Organic', 'Deluxe', 'Compact', 'Handmade', 'Smart', 'Vintage', 'Eco'],
  productNouns: ['Mug', 'Backpack', 'Lamp', 'Notebook', 'Headphones', 'Teapot', 'Scarf', 'Chair', 'Kettle'],
  materials: ['oak', 'steel', 'wool', 'ceramic', 'recycled PET'],
  tags: [
    'new', 'sale', 'gift idea', 'eco-friendly', 'kids, 3+', 'sale "50%"', 'limited', 'bestseller', '{bundle}',
    'café',
  ],
  languages: ['en', 'de', 'fr', 'pl', 'pt', 'ja'],
  themes: ['light', 'dark', 'system'],
  paymentMethods: ['card', 'card', 'card', 'paypal', 'bank_transfer'],
  commentOpenings: [
    'Great product!',
    'Très bien, merci 👍',
    'Zażółć gęślą jaźń — works as described.',
    'Отличный товар.',
    '日本語のレビュー：とても良い。',
    'Arrived late.\nPackaging was fine though.',
    'Size\tColour\tVerdict\nM\tblue\tok',
    'Saved it to C:\\Users\\me\\receipts — "as promised".',
    'Not what I expected…',
    'naïve question: does it fit a 15" laptop?',
  ],
  commentClosings: ['', ' Would buy again.', '\n\n— sent from my phone', ' 5/5', ' ★★★☆☆', '\tThanks!'],
} as const;
