/**
 * Fixed vocabularies for the reference operator: Canadian names, places, area codes and the
 * hardware a small VoIP provider sees. Everything personal the generator produces is built from
 * these lists, reserved ranges and reserved names, so no value points at a real person:
 * - phone numbers use the 555 exchange (555-01XX is NANP's fictional range; subjects use
 *   555-0100..555-1999, other parties 555-2000..555-9999);
 * - e-mail domains end in `.example` (RFC 2606), plus `example.com` for the named near-misses;
 * - IP addresses come from shared (100.64.0.0/10), documentation (192.0.2.0/24, 198.51.100.0/24,
 *   203.0.113.0/24, 2001:db8::/32) and benchmarking (198.18.0.0/15) ranges.
 */

export interface City {
  readonly name: string;
  readonly province: Province;
  readonly areaCodes: readonly string[];
  /** First letters of the postal code (forward sortation area prefix). */
  readonly fsa: readonly string[];
  readonly weight: number;
  readonly french: number;
}

export type Province = 'QC' | 'ON' | 'BC' | 'AB' | 'MB' | 'SK' | 'NS' | 'NB' | 'NL' | 'PE';

export const CITIES: readonly City[] = [
  { name: 'Montréal', province: 'QC', areaCodes: ['514', '438'], fsa: ['H1', 'H2', 'H3', 'H4'], weight: 26, french: 0.7 },
  { name: 'Laval', province: 'QC', areaCodes: ['450', '579'], fsa: ['H7'], weight: 5, french: 0.8 },
  { name: 'Longueuil', province: 'QC', areaCodes: ['450', '579'], fsa: ['J4'], weight: 4, french: 0.85 },
  { name: 'Québec', province: 'QC', areaCodes: ['418', '581'], fsa: ['G1', 'G2'], weight: 8, french: 0.95 },
  { name: 'Gatineau', province: 'QC', areaCodes: ['819', '873'], fsa: ['J8', 'J9'], weight: 3, french: 0.8 },
  { name: 'Sherbrooke', province: 'QC', areaCodes: ['819', '873'], fsa: ['J1'], weight: 2, french: 0.9 },
  { name: 'Toronto', province: 'ON', areaCodes: ['416', '647', '437'], fsa: ['M4', 'M5', 'M6'], weight: 16, french: 0.03 },
  { name: 'Mississauga', province: 'ON', areaCodes: ['905', '289', '365'], fsa: ['L4', 'L5'], weight: 4, french: 0.02 },
  { name: 'Ottawa', province: 'ON', areaCodes: ['613', '343'], fsa: ['K1', 'K2'], weight: 6, french: 0.2 },
  { name: 'Hamilton', province: 'ON', areaCodes: ['905', '289'], fsa: ['L8', 'L9'], weight: 2, french: 0.02 },
  { name: 'London', province: 'ON', areaCodes: ['519', '226', '548'], fsa: ['N5', 'N6'], weight: 2, french: 0.02 },
  { name: 'Sudbury', province: 'ON', areaCodes: ['705', '249'], fsa: ['P3'], weight: 1, french: 0.3 },
  { name: 'Vancouver', province: 'BC', areaCodes: ['604', '778', '236'], fsa: ['V5', 'V6'], weight: 7, french: 0.02 },
  { name: 'Victoria', province: 'BC', areaCodes: ['250', '778'], fsa: ['V8', 'V9'], weight: 1, french: 0.02 },
  { name: 'Calgary', province: 'AB', areaCodes: ['403', '587', '825'], fsa: ['T2', 'T3'], weight: 4, french: 0.02 },
  { name: 'Edmonton', province: 'AB', areaCodes: ['780', '587', '825'], fsa: ['T5', 'T6'], weight: 3, french: 0.03 },
  { name: 'Winnipeg', province: 'MB', areaCodes: ['204', '431'], fsa: ['R2', 'R3'], weight: 2, french: 0.05 },
  { name: 'Saskatoon', province: 'SK', areaCodes: ['306', '639'], fsa: ['S7'], weight: 1, french: 0.02 },
  { name: 'Halifax', province: 'NS', areaCodes: ['902', '782'], fsa: ['B3'], weight: 2, french: 0.03 },
  { name: 'Moncton', province: 'NB', areaCodes: ['506'], fsa: ['E1'], weight: 1, french: 0.35 },
  { name: "St. John's", province: 'NL', areaCodes: ['709'], fsa: ['A1'], weight: 1, french: 0.01 },
  { name: 'Charlottetown', province: 'PE', areaCodes: ['902', '782'], fsa: ['C1'], weight: 1, french: 0.02 },
];

/** Sales taxes applied to telecom services, per province (GST/HST plus provincial tax). */
export const TAXES: Readonly<Record<Province, ReadonlyArray<{ readonly name: string; readonly rate: number }>>> = {
  QC: [{ name: 'GST', rate: 0.05 }, { name: 'QST', rate: 0.09975 }],
  ON: [{ name: 'HST', rate: 0.13 }],
  BC: [{ name: 'GST', rate: 0.05 }, { name: 'PST', rate: 0.07 }],
  AB: [{ name: 'GST', rate: 0.05 }],
  MB: [{ name: 'GST', rate: 0.05 }, { name: 'RST', rate: 0.07 }],
  SK: [{ name: 'GST', rate: 0.05 }, { name: 'PST', rate: 0.06 }],
  NS: [{ name: 'HST', rate: 0.14 }],
  NB: [{ name: 'HST', rate: 0.15 }],
  NL: [{ name: 'HST', rate: 0.15 }],
  PE: [{ name: 'HST', rate: 0.15 }],
};

export const FRENCH_FIRST = [
  'Marie', 'Jean', 'Sophie', 'Mathieu', 'Julie', 'Éric', 'Catherine', 'François', 'Isabelle', 'Luc',
  'Geneviève', 'Stéphane', 'Nathalie', 'Philippe', 'Mélanie', 'Sylvain', 'Chantal', 'Alexandre', 'Josée', 'Benoît',
  'Émilie', 'Olivier', 'Valérie', 'Simon', 'Annie', 'Guillaume', 'Caroline', 'Maxime', 'Karine', 'Gabriel',
] as const;
export const FRENCH_LAST = [
  'Tremblay', 'Gagnon', 'Roy', 'Côté', 'Bouchard', 'Gauthier', 'Morin', 'Lavoie', 'Fortin', 'Gagné',
  'Ouellet', 'Pelletier', 'Bélanger', 'Lévesque', 'Bergeron', 'Leblanc', 'Paquette', 'Girard', 'Simard', 'Boucher',
  'Caron', 'Beaulieu', 'Cloutier', 'Dubé', 'Poirier', 'Fournier', 'Lapointe', 'Leclerc', 'Lefebvre', 'Poulin',
] as const;
export const ENGLISH_FIRST = [
  'James', 'Emily', 'Liam', 'Olivia', 'Noah', 'Emma', 'Ethan', 'Ava', 'Lucas', 'Charlotte',
  'Daniel', 'Hannah', 'Ryan', 'Sarah', 'Matthew', 'Jessica', 'Priya', 'Arjun', 'Wei', 'Mei',
  'Mohammed', 'Fatima', 'Jasmine', 'Kevin', 'Rachel', 'Andrew', 'Megan', 'Tyler', 'Amanda', 'Harpreet',
] as const;
export const ENGLISH_LAST = [
  'Smith', 'Brown', 'Wilson', 'MacDonald', 'Campbell', 'Anderson', 'Taylor', 'Thompson', 'Martin', 'Stewart',
  'Johnson', 'Walker', 'Robertson', "O'Brien", 'Murphy', 'Patel', 'Singh', 'Chen', 'Wong', 'Li',
  'Nguyen', 'Kim', 'Ahmed', 'Khan', 'Scott', 'Reid', 'Fraser', 'Hughes', 'Grant', 'Clarke',
] as const;

export const FRENCH_STREETS = [
  'rue Saint-Denis', 'boulevard Saint-Laurent', 'avenue du Mont-Royal', 'rue Sherbrooke Est', 'rue Ontario Est',
  'avenue Papineau', 'rue Beaubien', 'boulevard René-Lévesque', 'rue des Érables', 'chemin Sainte-Foy',
  'avenue Cartier', 'rue Principale', 'boulevard des Laurentides', 'rue King Ouest', 'avenue de Gaspé',
] as const;
export const ENGLISH_STREETS = [
  'Queen Street West', 'Yonge Street', 'Bloor Street East', 'Bank Street', 'Elgin Street', 'Main Street',
  'King Street East', 'Dundas Street', 'Robson Street', 'Granville Street', 'Jasper Avenue', '17th Avenue SW',
  'Portage Avenue', 'Spring Garden Road', 'Water Street', 'Maple Avenue', 'Oak Crescent', 'Elm Drive',
] as const;

export const SUBJECT_EMAIL_DOMAINS = [
  'videotron.example', 'sympatico.example', 'gmail.example', 'outlook.example', 'bell.example',
  'rogers.example', 'telus.example', 'shaw.example', 'hotmail.example', 'yahoo.example',
] as const;
/** Domains of people who are not the operator's customers; disjoint from subjects' domains. */
export const OTHER_EMAIL_DOMAINS = ['cogeco.example', 'eastlink.example', 'icloud.example', 'proton.example', 'sasktel.example'] as const;

export const PLANS = [
  { code: 'RES-UNL-CA', name: 'Résidentiel illimité Canada', monthly: 14.95 },
  { code: 'RES-UNL-NA', name: 'Residential Unlimited North America', monthly: 19.95 },
  { code: 'BIZ-1', name: 'Business 1 line', monthly: 29.95 },
  { code: 'BIZ-3', name: 'Business 3 lines + fax', monthly: 64.95 },
  { code: 'PAYG', name: 'Pay as you go', monthly: 4.95 },
] as const;

export interface DeviceModel {
  readonly vendor: string;
  readonly model: string;
  readonly kind: 'desk-phone' | 'ata' | 'softphone';
  /** MAC OUI, absent for softphones. */
  readonly oui?: string;
  readonly firmware: readonly string[];
  readonly userAgent: (firmware: string) => string;
}

export const DEVICE_MODELS: readonly DeviceModel[] = [
  { vendor: 'Yealink', model: 'SIP-T54W', kind: 'desk-phone', oui: '805ec0', firmware: ['96.86.0.100', '96.86.0.115'], userAgent: (f) => `Yealink SIP-T54W ${f}` },
  { vendor: 'Yealink', model: 'SIP-T31P', kind: 'desk-phone', oui: '249ad8', firmware: ['124.86.0.75'], userAgent: (f) => `Yealink SIP-T31P ${f}` },
  { vendor: 'Polycom', model: 'VVX 450', kind: 'desk-phone', oui: '0004f2', firmware: ['6.4.3.5156'], userAgent: (f) => `PolycomVVX-VVX_450-UA/${f}` },
  { vendor: 'Grandstream', model: 'HT802', kind: 'ata', oui: '000b82', firmware: ['1.0.53.2', '1.0.55.4'], userAgent: (f) => `Grandstream HT802 ${f}` },
  { vendor: 'Grandstream', model: 'GRP2614', kind: 'desk-phone', oui: 'c074ad', firmware: ['1.0.11.3'], userAgent: (f) => `Grandstream GRP2614 ${f}` },
  { vendor: 'Cisco', model: 'SPA112', kind: 'ata', oui: '58971e', firmware: ['1.4.1 SR5'], userAgent: (f) => `Cisco/SPA112-${f}` },
  { vendor: 'Zoiper', model: 'Zoiper 5', kind: 'softphone', firmware: ['5.6.2', '5.6.6'], userAgent: (f) => `Z ${f} v2.10.20.2` },
  { vendor: 'Linphone', model: 'Linphone Android', kind: 'softphone', firmware: ['5.2.5'], userAgent: (f) => `LinphoneAndroid/${f} (belle-sip/5.2.0)` },
  { vendor: 'Acrobits', model: 'Groundwire', kind: 'softphone', firmware: ['24.3'], userAgent: (f) => `Groundwire/${f} (iOS)` },
];

/** Carrier trunks and SBCs: they appear in logs without a subscriber identity. */
export const CARRIERS = [
  { name: 'carrier-a', ip: '192.0.2.10', userAgent: 'Sonus SBC 11.1' },
  { name: 'carrier-a', ip: '192.0.2.11', userAgent: 'Sonus SBC 11.1' },
  { name: 'carrier-b', ip: '192.0.2.40', userAgent: 'Ribbon SBC SWe 12.0' },
  { name: 'carrier-c', ip: '192.0.2.77', userAgent: 'Oracle ESBC 9.2' },
] as const;

/** SIP scanners hammering the public proxy: the bulk of a real proxy's noise. */
export const SCANNER_AGENTS = ['friendly-scanner', 'sipvicious', 'sipcli/v1.8', 'VaxSIPUserAgent/3.1', 'Cisco-SIPGateway/IOS-12.x'] as const;

/** International destinations typical of toll fraud (fictional numbers). */
export const FRAUD_DESTINATIONS = ['+447700900123', '+447700900456', '+61491570156', '+61491570110', '+35312345678'] as const;

export const PBX_DOMAIN = 'pbx.voip.example';
export const PROXY_HOSTS = ['sbc-mtl-1', 'sbc-mtl-2', 'sbc-tor-1'] as const;

export const PORTAL_USER_AGENTS = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64)', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)', 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)'] as const;
