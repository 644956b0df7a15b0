/** The reference operator: a Canadian VoIP provider shaped after the seed privacy policies. */
import path from 'node:path';
import { parseDataMap, type DataMap } from '../../functions/core/datamap';
import raw from './datamap.json';

export const VOIP_DATA_MAP_PATH = path.join(__dirname, 'datamap.json');

export function voipDataMap(): DataMap {
  return parseDataMap(raw, VOIP_DATA_MAP_PATH);
}
